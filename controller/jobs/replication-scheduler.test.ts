import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';
import { JobService, type ReplicationPair } from './job-service.js';
import { ReplicationScheduler, type Timer } from './replication-scheduler.js';
import { WorkerMonitor } from './worker-monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-sched-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Timers on the manual clock: `advance` moves the clock and fires what fell due, in time order. */
class FakeTimer implements Timer {
  private pending: { dueMs: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(private readonly clock: ManualClock) {}

  after(delayMs: number, fn: () => void): () => void {
    const entry = { dueMs: this.clock.nowMs() + delayMs, fn, cancelled: false };
    this.pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get armed(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Moves time forward by `ms`, firing each timer at its due time; `settle` runs after each. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const end = this.clock.nowMs() + ms;
    for (;;) {
      const next = this.pending.filter((p) => !p.cancelled && p.dueMs <= end).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (!next) break;
      this.clock.advance(Math.max(0, next.dueMs - this.clock.nowMs()));
      this.pending = this.pending.filter((p) => p !== next);
      next.fn();
      await settle();
    }
    this.clock.advance(end - this.clock.nowMs());
  }
}

class FakePublisher implements JobPublisher {
  readonly sent: JobMessage[] = [];
  publish(_site: string, _worker: string, job: JobMessage): Promise<void> {
    this.sent.push(job);
    return Promise.resolve();
  }
}

function setup(pairs: ReplicationPair[]) {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock();
  const timer = new FakeTimer(clock);
  const publisher = new FakePublisher();
  let seq = 0;
  const jobs = new JobService({
    catalog,
    publisher,
    changes: new JobChangeFeed(),
    clock,
    log: silentLogger(),
    newId: () => `JOB${String(++seq).padStart(3, '0')}`,
    replication: pairs,
    verifySkipWithinMs: 0,
    gcGraceMs: 0,
  });
  const monitor = new WorkerMonitor({ catalog, clock, log: silentLogger(), heartbeatIntervalMs: 1000, offlineAfterMissedBeats: 3 });
  const beat = (site: string) =>
    monitor.recordHeartbeat({ site, worker: 'storage', kind: 'storage', at: clock.nowIso(), version: 't', address: `127.0.0.1:${site.charCodeAt(0)}`, runningJobs: 0 });
  const scheduler = new ReplicationScheduler({ pairs, catalog, jobs, clock, timer, log: silentLogger() });
  const advance = (ms: number) => timer.advance(ms, () => scheduler.idle());
  const syncJobs = () => catalog.listJobs({ kind: 'sync', limit: 100 }).reverse();
  const finish = (id: string) => catalog.updateJob(id, { state: 'succeeded', finishedAt: clock.nowIso() });
  return { catalog, clock, timer, publisher, scheduler, advance, syncJobs, finish, beat };
}

const MIN = 60_000;

describe('ReplicationScheduler', () => {
  it('creates a sync of each interval pair every interval, along its pair; a pair without interval never', async () => {
    const s = setup([
      { from: 'a', to: 'b', intervalMs: MIN },
      { from: 'a', to: 'c' },
    ]);
    for (const site of ['a', 'b', 'c']) s.beat(site);
    s.scheduler.start();
    await s.advance(MIN - 1);
    assert.equal(s.syncJobs().length, 0, 'nothing before the first interval');
    await s.advance(1);
    const [first] = s.syncJobs();
    assert.equal(first?.site, 'b', 'a pull runs at the replica');
    assert.deepEqual(s.publisher.sent[0]?.params, { mode: 'pull', source: { site: 'a', address: '127.0.0.1:97' }, concurrency: 2 });
    s.finish(first?.id ?? '');
    await s.advance(MIN);
    s.finish(s.syncJobs()[1]?.id ?? '');
    await s.advance(MIN);
    assert.equal(s.syncJobs().length, 3, 'one per interval');
    assert.ok(s.syncJobs().every((j) => j.site === 'b'), 'the pair without interval never synced');
    await s.scheduler.stop();
    s.catalog.close();
  });

  it('skips a pair while its previous sync is queued or running, and syncs again once it finished', async () => {
    const s = setup([{ from: 'a', to: 'b', intervalMs: MIN }]);
    s.beat('a');
    s.beat('b');
    s.scheduler.start();
    await s.advance(MIN);
    const first = s.syncJobs()[0];
    assert.equal(first?.state, 'queued');
    await s.advance(MIN);
    assert.equal(s.syncJobs().length, 1, 'still queued: skipped');
    s.catalog.updateJob(first?.id ?? '', { state: 'running' });
    await s.advance(3 * MIN);
    assert.equal(s.syncJobs().length, 1, 'still running: skipped');
    s.finish(first?.id ?? '');
    await s.advance(MIN);
    assert.equal(s.syncJobs().length, 2);
    await s.scheduler.stop();
    s.catalog.close();
  });

  it('keeps the rhythm across a restart: the next sync is due one interval after the last one', async () => {
    const s = setup([{ from: 'a', to: 'b', intervalMs: 10 * MIN }]);
    s.beat('a');
    s.beat('b');
    s.scheduler.start();
    await s.advance(10 * MIN);
    s.finish(s.syncJobs()[0]?.id ?? '');
    await s.scheduler.stop();
    await s.advance(4 * MIN);
    assert.equal(s.timer.armed, 0, 'a stopped scheduler leaves no timer');

    const started: string[] = [];
    const restarted = new ReplicationScheduler({
      pairs: [{ from: 'a', to: 'b', intervalMs: 10 * MIN }],
      catalog: s.catalog,
      jobs: {
        startSync: (req) => {
          started.push(`${req.fromSite}>${req.toSite}@${s.clock.nowIso()}`);
          return Promise.reject(new Error('no online storage at site b'));
        },
      },
      clock: s.clock,
      timer: s.timer,
      log: silentLogger(),
    });
    restarted.start();
    await s.timer.advance(6 * MIN - 1, () => restarted.idle());
    assert.deepEqual(started, [], 'not before one interval after the last sync');
    await s.timer.advance(1, () => restarted.idle());
    assert.deepEqual(started, [`a>b@${new Date(Date.UTC(2026, 0, 1) + 20 * MIN).toISOString()}`]);
    await s.timer.advance(10 * MIN, () => restarted.idle());
    assert.equal(started.length, 2, 'a sync that could not start is tried again the next interval');
    await restarted.stop();
    s.catalog.close();
  });

  it('a sync that cannot start (no online storage) creates nothing and is tried again', async () => {
    const s = setup([{ from: 'a', to: 'b', intervalMs: MIN }]);
    s.beat('a');
    s.scheduler.start();
    await s.advance(MIN);
    assert.equal(s.syncJobs().length, 0);
    s.beat('b');
    s.beat('a');
    await s.advance(MIN);
    assert.equal(s.syncJobs().length, 1);
    await s.scheduler.stop();
    s.catalog.close();
  });

  it('arms nothing without an interval pair', () => {
    const s = setup([{ from: 'a', to: 'b' }]);
    s.scheduler.start();
    assert.equal(s.timer.armed, 0);
    s.catalog.close();
  });
});
