/**
 * The worker loop every agent and storage runs (NATS-JETSTREAM.md §2, §9):
 * - one durable pull consumer on the worker's own subject, `max_ack_pending` = concurrency;
 * - `next()` pulls, so no job waits prefetched while its ack_wait runs and a hung worker holds
 *   no open pull that could swallow a redelivery;
 * - `working()` while a job runs, so long jobs are not redelivered;
 * - the result event is stored before the job is acked: a crash between the two redelivers the
 *   job, whose handler is idempotent (storage sessions are keyed by job id and attempt);
 * - acks are retried with a raw `+ACK` request, since nats.js drops an ack sent while
 *   disconnected and will not send the same ack twice.
 */
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Clock } from '../clock.js';
import { AppError, errorMessage } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { JobResult } from '../messages/events.js';
import { JobMessage } from '../messages/jobs.js';
import { JOBS_STREAM, subjects, workerDurable } from '../messages/subjects.js';
import { EventPublisher } from './event-publisher.js';
import { ensureStreams } from './streams.js';

/** What a job handler may use while it runs. */
export interface JobContext {
  readonly log: Logger;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
  /** Reports progress; sent as events at most once a second. */
  progress(phase: string, doneBytes: number, totalBytes: number): void;
}

/** Runs one job and returns its result; throws to fail it. */
export type JobHandler = (job: JobMessage, ctx: JobContext) => Promise<JobResult>;

export interface JobWorkerOptions {
  readonly nc: NatsConnection;
  readonly site: string;
  readonly worker: string;
  readonly handler: JobHandler;
  /**
   * Called once a job's `job.succeeded` event is stored, before the job is acked: what the
   * worker kept until its result reached the controller may go now. A failure is logged (the
   * job is still acked: the result is stored).
   */
  readonly onSucceeded?: (job: JobMessage, result: JobResult) => Promise<void>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  readonly progressIntervalMs?: number;
}

export class JobWorker {
  private readonly controller = new AbortController();
  private readonly events: EventPublisher;
  private readonly ackWaitMs: number;
  private loop: Promise<void> | undefined;
  private running = 0;

  constructor(private readonly opts: JobWorkerOptions) {
    this.events = new EventPublisher(opts.nc.jetstream(), opts.log);
    this.ackWaitMs = opts.ackWaitMs ?? 30_000;
  }

  /** Jobs running now. */
  get runningJobs(): number {
    return this.running;
  }

  /** The publisher the worker records its events with. */
  get publisher(): EventPublisher {
    return this.events;
  }

  /** Ensures the streams and this worker's consumer, then starts pulling jobs. */
  async start(): Promise<void> {
    await this.ensureConsumer();
    this.loop = this.run();
  }

  /** Stops pulling; waits for the job in hand to end (its handler sees the abort signal). */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private async ensureConsumer(): Promise<void> {
    const { nc, site, worker } = this.opts;
    const jsm = await nc.jetstreamManager();
    await ensureStreams(jsm);
    await jsm.consumers.add(JOBS_STREAM, {
      durable_name: workerDurable(site, worker),
      filter_subject: subjects.jobs(site, worker),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.ackWaitMs),
      max_deliver: this.opts.maxDeliver ?? 10,
      max_ack_pending: 1,
    });
  }

  private async run(): Promise<void> {
    const { nc, site, worker, log } = this.opts;
    const js = nc.jetstream();
    const stopped = new Promise<'stopped'>((resolve) => this.controller.signal.addEventListener('abort', () => resolve('stopped')));
    while (!this.controller.signal.aborted) {
      let msg: JsMsg | null;
      try {
        const consumer = await js.consumers.get(JOBS_STREAM, workerDurable(site, worker));
        const pending = consumer.next({ expires: 5000 });
        const first = await Promise.race([pending, stopped]);
        if (first === 'stopped') {
          // Stopping mid-pull: a job the pull still brings goes straight back to the queue.
          pending.then((late) => late?.nak(), () => undefined).catch(() => undefined);
          break;
        }
        msg = first;
      } catch (err) {
        if (this.controller.signal.aborted) break;
        log.warn({ err }, 'pulling a job failed; re-ensuring stream and consumer');
        await sleep(1000);
        await this.ensureConsumer().catch((e: unknown) => log.warn({ err: e }, 'ensure consumer failed'));
        continue;
      }
      if (msg) await this.handle(msg);
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { site, worker, clock } = this.opts;
    let job: JobMessage;
    try {
      job = JobMessage.parse(msg.json());
    } catch (err) {
      this.opts.log.error({ err, seq: msg.seq }, 'invalid job message, terminating it');
      msg.term();
      return;
    }
    const log = this.opts.log.child({ jobId: job.jobId, attempt: job.attempt, kind: job.kind });
    const base = () => ({ eventId: newId(), site, worker, at: clock.nowIso(), jobId: job.jobId, attempt: job.attempt });
    this.running++;
    const heartbeat = setInterval(() => msg.working(), Math.max(1000, Math.floor(this.ackWaitMs / 3)));
    let lastProgressMs = 0;
    let progressChain: Promise<void> = Promise.resolve();
    try {
      log.info({ redelivered: msg.info.redeliveryCount > 1 }, 'job started');
      await this.events.publish({ ...base(), type: 'job.started' });
      const ctx: JobContext = {
        log,
        signal: this.controller.signal,
        progress: (phase, doneBytes, totalBytes) => {
          const now = clock.nowMs();
          if (now - lastProgressMs < (this.opts.progressIntervalMs ?? 1000) && doneBytes < totalBytes) return;
          lastProgressMs = now;
          progressChain = progressChain
            .then(() => this.events.publish({ ...base(), type: 'job.progress', phase, doneBytes, totalBytes }))
            .catch((err: unknown) => log.warn({ err }, 'progress event lost'));
        },
      };
      let outcome: { ok: true; result: JobResult } | { ok: false; err: unknown };
      try {
        outcome = { ok: true, result: await this.opts.handler(job, ctx) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      await progressChain;
      if (this.controller.signal.aborted && !outcome.ok) {
        // Stopping: leave the job unacked so it is redelivered to a running worker.
        log.info('worker stopping; job left for redelivery');
        return;
      }
      if (outcome.ok) {
        await this.events.publish({ ...base(), type: 'job.succeeded', outcome: outcome.result });
        log.info('job succeeded');
        await this.opts.onSucceeded?.(job, outcome.result).catch((err: unknown) => log.warn({ err }, 'after-success step failed'));
      } else {
        const err = outcome.err;
        const code = err instanceof AppError ? err.code : 'INTERNAL';
        if (!(err instanceof AppError)) log.error({ err }, 'job failed unexpectedly');
        else log.warn({ err }, 'job failed');
        await this.events.publish({ ...base(), type: 'job.failed', error: { code, message: errorMessage(err) } });
      }
      await this.ack(msg, log);
    } catch (err) {
      log.error({ err }, 'job result could not be recorded; it will be redelivered');
    } finally {
      clearInterval(heartbeat);
      this.running--;
    }
  }

  private async ack(msg: JsMsg, log: Logger): Promise<void> {
    if (await msg.ackAck({ timeout: 5000 }).catch(() => false)) return;
    const reply = (msg as JsMsg & { reply?: string }).reply;
    for (let attempt = 1; reply && attempt <= 60; attempt++) {
      try {
        await this.opts.nc.request(reply, '+ACK', { timeout: 5000 });
        return;
      } catch (err) {
        log.warn({ err, attempt }, 'ack not confirmed, retrying');
        await sleep(1000);
      }
    }
    log.error('ack never confirmed; the job will be redelivered and must report its committed result');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
