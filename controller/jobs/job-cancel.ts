/**
 * Cancel of a job (`bulwark cancel`, DESIGN.md §2).
 * - Not yet published (held by the dispatch gate, or its publish failed): cancelled at once in the
 *   catalog; it is never published (the publish path re-reads the row).
 * - Published: `cancelRequestedAt` is recorded and a cancel request goes on the core-NATS cancel
 *   subject of the job's worker (and of the site's shared queue for a shared job). Core NATS keeps
 *   nothing for a worker that is away, so `resendPending` (run periodically) sends every request
 *   again until the job ends. The worker aborts the job, cleans up as on failure and reports
 *   `job.failed` CANCELLED, which the event applier records as `cancelled`; a worker that receives
 *   the job after the request reports it cancelled without running it. A worker that was away
 *   asks for its pending requests when it starts, before it pulls (`pendingFor`).
 * - Finished: refused with a FAILED_PRECONDITION naming its state.
 * A crash between the row's update and the send loses nothing: the resend reads the rows.
 */
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { CancelRequest } from '../../shared/messages/jobs.js';
import { SHARED_WORKER } from '../../shared/messages/subjects.js';
import { isFinishedJobState, type Catalog, type JobRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from './job-change-feed.js';

/** Delivers cancel requests to workers (core NATS: at most once, to whoever listens now). */
export interface CancelSender {
  /** Sends one request to the cancel subject of `worker` at `site` (SHARED_WORKER: every agent of the site). */
  send(site: string, worker: string, request: CancelRequest): void;
}

export interface JobCancellerOptions {
  readonly catalog: Catalog;
  readonly changes: JobChangeFeed;
  readonly sender: CancelSender;
  readonly clock: Clock;
  readonly log: Logger;
}

export class JobCanceller {
  constructor(private readonly opts: JobCancellerOptions) {}

  /** Cancels a job or asks its worker to; returns the job's row after the change. */
  cancel(jobId: string): JobRow {
    const { catalog, clock, log } = this.opts;
    const now = clock.nowIso();
    const outcome = catalog.transaction((): { job: JobRow; immediate: boolean } => {
      const job = catalog.getJob(jobId);
      if (!job) throw new NotFoundError('job', jobId);
      if (isFinishedJobState(job.state)) {
        throw new PreconditionError(
          `job ${jobId} already finished (${job.state}${job.finishedAt !== null ? ` at ${job.finishedAt}` : ''}): there is nothing to cancel`,
          { jobId, state: job.state },
        );
      }
      if (job.state === 'queued' && job.publishedAt === null) {
        catalog.updateJob(jobId, { state: 'cancelled', finishedAt: now, cancelRequestedAt: now, error: 'CANCELLED: cancelled before it was published' });
        return { job, immediate: true };
      }
      if (job.cancelRequestedAt == null) catalog.updateJob(jobId, { cancelRequestedAt: now });
      return { job, immediate: false };
    });
    this.opts.changes.notify(jobId);
    const job = catalog.getJob(jobId) ?? outcome.job;
    // Sent in both cases: a publish already in flight when the row was cancelled still reaches a
    // worker, which then knows the job is cancelled.
    this.send(job, job.cancelRequestedAt ?? now);
    log.info({ jobId, kind: job.kind, site: job.site, worker: job.worker, immediate: outcome.immediate }, outcome.immediate ? 'job cancelled before publish' : 'job cancel requested');
    return job;
  }

  /** Sends the request of every cancel-requested job still unfinished again; returns how many. */
  resendPending(): number {
    const jobs = this.opts.catalog.listCancelRequestedJobs();
    for (const job of jobs) this.send(job, job.cancelRequestedAt ?? this.opts.clock.nowIso());
    return jobs.length;
  }

  /**
   * The pending requests a starting worker asks for: its own unfinished cancel-requested jobs,
   * and (an agent) those of its site's shared queue.
   */
  pendingFor(site: string, worker: string): CancelRequest[] {
    return this.opts.catalog
      .listCancelRequestedJobs()
      .filter((job) => job.site === site && (job.worker === worker || job.shared === true))
      .map((job) => ({ jobId: job.id, attempt: job.attempt, requestedAt: job.cancelRequestedAt ?? this.opts.clock.nowIso() }));
  }

  private send(job: JobRow, requestedAt: string): void {
    const request: CancelRequest = { jobId: job.id, attempt: job.attempt, requestedAt };
    const workers = new Set([job.worker]);
    if (job.shared === true) workers.add(SHARED_WORKER);
    for (const worker of workers) {
      try {
        this.opts.sender.send(job.site, worker, request);
      } catch (err) {
        this.opts.log.warn({ err, jobId: job.id, worker }, 'cancel request not sent; it is re-sent shortly');
      }
    }
  }
}
