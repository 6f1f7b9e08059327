/**
 * The replication scheduler: for each replication pair with an `intervalMs`, a sync job every
 * interval. A pair whose previous sync job is still queued or running is skipped until the next
 * interval (syncs of one pair never pile up). The first sync of a pair is due one interval after
 * its last sync job was created — so a restarted controller keeps the rhythm — or one interval
 * after start when it has none. A sync that cannot start (no online storage) is logged and tried
 * again at the next interval. Time comes from the Clock, waiting from a Timer port, so a test
 * drives both.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Catalog, JobRow } from '../catalog/catalog.js';
import { syncPairOfJob, type ReplicationPair, type SyncRequest } from './job-service.js';

/** Waiting, as a port: the process uses setTimeout, a test its own. */
export interface Timer {
  /** Calls `fn` once after `delayMs`; the returned function cancels it. */
  after(delayMs: number, fn: () => void): () => void;
}

/** What the scheduler needs of the jobs domain (JobService). */
export interface SyncStarter {
  startSync(req: SyncRequest): Promise<JobRow>;
}

export interface ReplicationSchedulerOptions {
  readonly pairs: readonly ReplicationPair[];
  readonly catalog: Catalog;
  readonly jobs: SyncStarter;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly log: Logger;
}

/** How many sync jobs, newest first, are searched for a pair's previous sync. */
const SYNC_HISTORY_LIMIT = 1000;

interface Scheduled {
  readonly pair: ReplicationPair & { readonly intervalMs: number };
  dueMs: number;
}

export class ReplicationScheduler {
  private readonly scheduled: Scheduled[];
  private cancel: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(private readonly opts: ReplicationSchedulerOptions) {
    this.scheduled = opts.pairs
      .filter((p): p is ReplicationPair & { intervalMs: number } => p.intervalMs !== undefined)
      .map((pair) => ({ pair, dueMs: 0 }));
  }

  /** Arms the timer for the first due pair; nothing to do without an interval pair. */
  start(): void {
    if (this.scheduled.length === 0) return;
    this.stopped = false;
    const nowMs = this.opts.clock.nowMs();
    for (const s of this.scheduled) {
      const last = this.lastSync(s.pair);
      s.dueMs = Math.max(nowMs, (last ? Date.parse(last.createdAt) : nowMs) + s.pair.intervalMs);
      this.opts.log.info({ from: s.pair.from, to: s.pair.to, intervalMs: s.pair.intervalMs, dueAt: new Date(s.dueMs).toISOString() }, 'replication scheduled');
    }
    this.arm();
  }

  /** Cancels the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }

  /** Resolves once the round in progress (if any) has finished; for tests. */
  idle(): Promise<void> {
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    const next = Math.min(...this.scheduled.map((s) => s.dueMs));
    const delayMs = Math.max(0, next - this.opts.clock.nowMs());
    this.cancel = this.opts.timer.after(delayMs, () => {
      this.cancel = undefined;
      this.running = this.round()
        .catch((err: unknown) => this.opts.log.error({ err }, 'replication round failed; next interval tries again'))
        .finally(() => this.arm());
    });
  }

  /** Starts a sync of every due pair, one after another, and sets each one's next due time. */
  private async round(): Promise<void> {
    for (const s of this.scheduled) {
      if (this.stopped) return;
      const nowMs = this.opts.clock.nowMs();
      if (s.dueMs > nowMs) continue;
      s.dueMs = nowMs + s.pair.intervalMs;
      await this.syncPair(s.pair);
    }
  }

  private async syncPair(pair: ReplicationPair): Promise<void> {
    const log = this.opts.log.child({ from: pair.from, to: pair.to });
    const previous = this.lastSync(pair);
    if (previous && (previous.state === 'queued' || previous.state === 'running')) {
      log.info({ jobId: previous.id, state: previous.state }, 'previous sync still unfinished: this interval skipped');
      return;
    }
    try {
      const job = await this.opts.jobs.startSync({ fromSite: pair.from, toSite: pair.to });
      log.info({ jobId: job.id }, 'scheduled sync started');
    } catch (err) {
      log.warn({ err }, 'scheduled sync could not start; next interval tries again');
    }
  }

  /** The newest sync job of the pair, in any state. */
  private lastSync(pair: ReplicationPair): JobRow | undefined {
    return this.opts.catalog
      .listJobs({ kind: 'sync', limit: SYNC_HISTORY_LIMIT })
      .find((job) => {
        const p = syncPairOfJob(job);
        return p !== undefined && p.from === pair.from && p.to === pair.to;
      });
  }
}
