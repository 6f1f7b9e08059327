/**
 * The worker loop every agent and storage runs (NATS-JETSTREAM.md §2, §9):
 * - one durable pull consumer on the worker's own subject, `max_ack_pending` = concurrency;
 * - with `sharedQueue`, also the site's shared durable (`<site>_shared`, one per site, pulled by
 *   every agent of the site): any of them may take a job there;
 * - `concurrency` slots hold across both queues: each queue is pulled (`next()`) only while a
 *   slot is free, so no job waits prefetched while its ack_wait runs and a busy worker holds no
 *   open pull that could swallow a redelivery. When both pulls bring a job for the last slot, the
 *   shared one is nak'd at once (another worker takes it) and an own one waits for the slot;
 * - a shared job this worker cannot run (`canRun` says no: an agent that does not report the VM)
 *   is nak'd with a delay growing with its delivery count, for another worker of the site;
 * - `working()` while a job runs, so long jobs are not redelivered;
 * - the result event is stored before the job is acked: a crash between the two redelivers the
 *   job, whose handler is idempotent (storage sessions are keyed by job id and attempt);
 * - acks are retried with a raw `+ACK` request, since nats.js drops an ack sent while
 *   disconnected and will not send the same ack twice.
 *
 * Cancel: the worker listens on `bulwark.cancel.<site>.<worker>` (and `.shared`). A cancel aborts
 * the running job's own AbortSignal; the handler cleans up as on failure and the worker reports
 * `job.failed` with code CANCELLED, then acks: a cancelled job is finished. Stopping the worker
 * aborts the same signal but leaves the job unacked, for redelivery. Recent cancels are remembered
 * (bounded), so a job that arrives after its cancel is reported cancelled without running; a
 * starting worker first asks the controller for the cancels requested while it was away.
 */
import { AckPolicy, DeliverPolicy, nanos, type Consumer, type JsMsg, type NatsConnection, type Subscription } from 'nats';
import type { Clock } from '../clock.js';
import { AppError, CancelledError, errorMessage } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { JobResult } from '../messages/events.js';
import { z } from 'zod';
import { CancelRequest, JobMessage, type PendingCancelsRequest } from '../messages/jobs.js';
import { JOBS_STREAM, SHARED_WORKER, subjects, workerDurable } from '../messages/subjects.js';
import { EventPublisher } from './event-publisher.js';
import { ensureStreams } from './streams.js';

/** What a job handler may use while it runs. */
export interface JobContext {
  readonly log: Logger;
  /** Aborted when this job is cancelled or the worker stops; the handler cleans up as on failure. */
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
  /** Jobs run at once, over the own and the shared queue together (default 1). */
  readonly concurrency?: number;
  /** Also take jobs from the site's shared queue (agents). */
  readonly sharedQueue?: boolean;
  /** Whether this worker can run a job of the shared queue (an agent: it reports the VM); default yes. */
  readonly canRun?: (job: JobMessage) => boolean | Promise<boolean>;
  /** The first nak delay of a shared job this worker cannot run; grows with its deliveries (default 2000). */
  readonly notMineDelayMs?: number;
  /** How long one pull waits for a job (≥ 1000; default 5000). */
  readonly pullExpiresMs?: number;
  /** Called as soon as a job is received and decoded, with the clock's time (dispatch latency in the scale bench). */
  readonly onReceived?: (job: JobMessage, receivedMs: number) => void;
}

/** max_deliver of the shared durable: higher than a worker's own, since workers that cannot run a job nak it. */
const SHARED_MAX_DELIVER = 100;
/** max_ack_pending of the shared durable: every agent of a site may hold its jobs at once. */
const SHARED_MAX_ACK_PENDING = 1024;
/** Longest nak delay for a shared job this worker cannot run. */
const MAX_NOT_MINE_DELAY_MS = 30_000;
/** Cancel requests remembered for jobs that arrive later. */
const REMEMBERED_CANCELS = 1000;
/** How long a starting worker waits for the controller's list of pending cancels. */
const PENDING_CANCELS_TIMEOUT_MS = 2000;

interface Queue {
  readonly durable: string;
  readonly shared: boolean;
}

interface ActiveJob {
  readonly attempt: number;
  readonly cancel: AbortController;
}

export class JobWorker {
  private readonly stopping = new AbortController();
  private readonly events: EventPublisher;
  private readonly ackWaitMs: number;
  private readonly concurrency: number;
  private readonly slots: Slots;
  private readonly queues: Queue[];
  private readonly active = new Map<string, ActiveJob>();
  /** jobId → the newest attempt a cancel was requested for, oldest request first. */
  private readonly cancels = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private subscriptions: Subscription[] = [];
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: JobWorkerOptions) {
    this.events = new EventPublisher(opts.nc.jetstream(), opts.log);
    this.ackWaitMs = opts.ackWaitMs ?? 30_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.slots = new Slots(this.concurrency);
    this.queues = [{ durable: workerDurable(opts.site, opts.worker), shared: false }];
    if (opts.sharedQueue === true) this.queues.push({ durable: workerDurable(opts.site, SHARED_WORKER), shared: true });
  }

  /** Jobs running now. */
  get runningJobs(): number {
    return this.active.size;
  }

  /** The publisher the worker records its events with. */
  get publisher(): EventPublisher {
    return this.events;
  }

  /** Ensures the streams and this worker's consumers, listens for cancels, then starts pulling jobs. */
  async start(): Promise<void> {
    await this.ensureConsumers();
    const { nc, site, worker } = this.opts;
    const cancelSubjects = [subjects.cancel(site, worker), ...(this.opts.sharedQueue === true ? [subjects.cancel(site, SHARED_WORKER)] : [])];
    this.subscriptions = cancelSubjects.map((subject) => nc.subscribe(subject, { callback: (_err, msg) => this.onCancel(msg.data) }));
    await this.fetchPendingCancels();
    this.loops = this.queues.map((queue) => this.pullLoop(queue));
  }

  /**
   * Asks the controller for the cancels requested while this worker was away, before it pulls:
   * a job cancelled meanwhile is then reported cancelled, never run. No answer (no controller
   * yet): the controller's periodic re-send reaches the worker shortly after.
   */
  private async fetchPendingCancels(): Promise<void> {
    const { nc, site, worker, log } = this.opts;
    try {
      const reply = await nc.request(subjects.pendingCancels, JSON.stringify({ site, worker } satisfies PendingCancelsRequest), { timeout: PENDING_CANCELS_TIMEOUT_MS });
      const pending = z.array(CancelRequest).parse(reply.json());
      for (const request of pending) this.remember(request);
      if (pending.length > 0) log.info({ count: pending.length }, 'pending cancel requests received');
    } catch (err) {
      log.info({ err }, 'no pending cancel requests received (is the controller running?); relying on its re-sends');
    }
  }

  /** Stops pulling; waits for the jobs in hand to end (their handlers see the abort signal) and leaves them for redelivery. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const sub of this.subscriptions) sub.unsubscribe();
    await Promise.all(this.loops);
    await Promise.all([...this.inFlight]);
  }

  private async ensureConsumers(): Promise<void> {
    const { nc, site, worker } = this.opts;
    const jsm = await nc.jetstreamManager();
    await ensureStreams(jsm);
    const common = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(this.ackWaitMs) };
    await jsm.consumers.add(JOBS_STREAM, {
      ...common,
      durable_name: workerDurable(site, worker),
      filter_subject: subjects.jobs(site, worker),
      max_deliver: this.opts.maxDeliver ?? 10,
      max_ack_pending: this.concurrency,
    });
    if (this.opts.sharedQueue === true) {
      // One durable per site, the same config from every agent of the site (the last writer wins).
      await jsm.consumers.add(JOBS_STREAM, {
        ...common,
        durable_name: workerDurable(site, SHARED_WORKER),
        filter_subject: subjects.jobs(site, SHARED_WORKER),
        max_deliver: SHARED_MAX_DELIVER,
        max_ack_pending: SHARED_MAX_ACK_PENDING,
      });
    }
  }

  private async pullLoop(queue: Queue): Promise<void> {
    const { nc, log } = this.opts;
    const js = nc.jetstream();
    const expires = Math.max(1000, this.opts.pullExpiresMs ?? 5000);
    const signal = this.stopping.signal;
    const stopped = new Promise<'stopped'>((resolve) => signal.addEventListener('abort', () => resolve('stopped')));
    // Looked up once and reused for every pull (each lookup is a CONSUMER.INFO round trip the
    // server answers with the consumer's whole state); looked up again after a failed pull.
    let consumer: Consumer | undefined;
    while (!signal.aborted) {
      // Pull only with a slot free: a busy worker has no pull open that could swallow a redelivery.
      if (!(await this.slots.waitFree(signal))) break;
      let msg: JsMsg | null;
      try {
        consumer ??= await js.consumers.get(JOBS_STREAM, queue.durable);
        const pending = consumer.next({ expires });
        const first = await Promise.race([pending, stopped]);
        if (first === 'stopped') {
          // Stopping mid-pull: a job the pull still brings goes straight back to the queue.
          pending.then((late) => late?.nak(), () => undefined).catch(() => undefined);
          break;
        }
        msg = first;
      } catch (err) {
        consumer = undefined;
        if (signal.aborted) break;
        log.warn({ err, durable: queue.durable }, 'pulling a job failed; re-ensuring stream and consumers');
        await sleep(1000);
        await this.ensureConsumers().catch((e: unknown) => log.warn({ err: e }, 'ensure consumers failed'));
        continue;
      }
      if (!msg) continue;
      if (!this.slots.tryAcquire()) {
        // The other queue's pull filled the last slot meanwhile. A shared job goes back at once,
        // for another worker (or this one, once free); an own job can only run here: it waits,
        // kept alive, for the slot.
        if (queue.shared) {
          msg.nak();
          continue;
        }
        const held = msg;
        const keepAlive = setInterval(() => held.working(), Math.max(1000, Math.floor(this.ackWaitMs / 3)));
        const got = await this.slots.acquire(signal);
        clearInterval(keepAlive);
        if (!got) {
          held.nak();
          break;
        }
      }
      const run = this.handle(msg, queue).finally(() => this.slots.release());
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  private onCancel(data: Uint8Array): void {
    let request: CancelRequest;
    try {
      request = CancelRequest.parse(JSON.parse(new TextDecoder().decode(data)));
    } catch (err) {
      this.opts.log.warn({ err }, 'invalid cancel request ignored');
      return;
    }
    this.remember(request);
    const running = this.active.get(request.jobId);
    if (running && running.attempt <= request.attempt && !running.cancel.signal.aborted) {
      this.opts.log.info({ jobId: request.jobId, attempt: running.attempt }, 'cancel requested; aborting the job');
      running.cancel.abort(new CancelledError('cancelled on request'));
    }
  }

  private remember(request: CancelRequest): void {
    const known = this.cancels.get(request.jobId);
    this.cancels.delete(request.jobId);
    this.cancels.set(request.jobId, Math.max(known ?? 0, request.attempt));
    while (this.cancels.size > REMEMBERED_CANCELS) {
      const oldest = this.cancels.keys().next().value;
      if (oldest === undefined) break;
      this.cancels.delete(oldest);
    }
  }

  private cancelRequested(job: JobMessage): boolean {
    const attempt = this.cancels.get(job.jobId);
    return attempt !== undefined && job.attempt <= attempt;
  }

  /** Runs one delivered job to its recorded end; never throws. */
  private async handle(msg: JsMsg, queue: Queue): Promise<void> {
    const { site, worker, clock } = this.opts;
    const receivedMs = clock.nowMs();
    let job: JobMessage;
    try {
      job = JobMessage.parse(msg.json());
    } catch (err) {
      this.opts.log.error({ err, seq: msg.seq }, 'invalid job message, terminating it');
      msg.term();
      return;
    }
    this.opts.onReceived?.(job, receivedMs);
    const log = this.opts.log.child({ jobId: job.jobId, attempt: job.attempt, kind: job.kind, ...(queue.shared ? { queue: 'shared' } : {}) });
    const base = () => ({ eventId: newId(), site, worker, at: clock.nowIso(), jobId: job.jobId, attempt: job.attempt });
    if (!this.cancelRequested(job) && queue.shared && !(await this.mayRun(job, log))) {
      const delayMs = Math.min(MAX_NOT_MINE_DELAY_MS, (this.opts.notMineDelayMs ?? 2000) * Math.max(1, msg.info.deliveryCount));
      log.info({ delayMs, deliveries: msg.info.deliveryCount }, 'shared job for a VM this worker does not report; left for another worker');
      msg.nak(delayMs);
      return;
    }
    const cancel = new AbortController();
    this.active.set(job.jobId, { attempt: job.attempt, cancel });
    const heartbeat = setInterval(() => msg.working(), Math.max(1000, Math.floor(this.ackWaitMs / 3)));
    let lastProgressMs = 0;
    let progressChain: Promise<void> = Promise.resolve();
    try {
      if (this.cancelRequested(job)) {
        // Cancelled before it reached a worker (or while it waited for one): finished, never run.
        await this.events.publish({ ...base(), type: 'job.failed', error: { code: 'CANCELLED', message: 'cancelled before it started' } });
        log.info('job cancelled before it started');
        await this.ack(msg, log);
        return;
      }
      log.info({ redelivered: msg.info.redeliveryCount > 1 }, 'job started');
      await this.events.publish({ ...base(), type: 'job.started' });
      const ctx: JobContext = {
        log,
        signal: AbortSignal.any([this.stopping.signal, cancel.signal]),
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
      const cancelled = cancel.signal.aborted;
      if (this.stopping.signal.aborted && !outcome.ok && !cancelled) {
        // Stopping: leave the job unacked so it is redelivered to a running worker.
        log.info('worker stopping; job left for redelivery');
        return;
      }
      if (outcome.ok) {
        // A cancel that came too late to stop the work: its result is real and recorded.
        await this.events.publish({ ...base(), type: 'job.succeeded', outcome: outcome.result });
        log.info({ cancelRequested: cancelled }, 'job succeeded');
        await this.opts.onSucceeded?.(job, outcome.result).catch((err: unknown) => log.warn({ err }, 'after-success step failed'));
      } else if (cancelled) {
        log.info({ err: outcome.err }, 'job cancelled');
        await this.events.publish({ ...base(), type: 'job.failed', error: { code: 'CANCELLED', message: 'cancelled on request' } });
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
      this.active.delete(job.jobId);
    }
  }

  private async mayRun(job: JobMessage, log: Logger): Promise<boolean> {
    try {
      return (await this.opts.canRun?.(job)) ?? true;
    } catch (err) {
      log.warn({ err }, 'could not tell whether this worker can run the shared job; leaving it for another');
      return false;
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

/**
 * The worker's job slots. The pull loops wait for a free slot before pulling and take one only
 * when a job arrives, so both queues pull at once while the worker is idle.
 */
class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Waits until a slot is taken: true, or false once `signal` aborts. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (!this.tryAcquire()) {
      if (!(await this.waitFree(signal))) return false;
    }
    return true;
  }

  /** Resolves true when a slot is free (without taking it), false once `signal` aborts. */
  waitFree(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.used < this.size) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    this.used--;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
