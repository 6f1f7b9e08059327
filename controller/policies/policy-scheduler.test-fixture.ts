/**
 * A scheduling fixture for the unit tests of controller/policies: a SQLite catalog in a temp
 * dir, a JobService with a recording publisher and the dispatch gate, a manual clock and a timer
 * on it, one storage per site and agents with VMs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { Policy, type PolicyInput } from '../../shared/messages/policy.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { JobChangeFeed } from '../jobs/job-change-feed.js';
import type { JobPublisher } from '../jobs/job-publisher.js';
import { JobService } from '../jobs/job-service.js';
import type { Timer } from '../jobs/replication-scheduler.js';
import { DispatchGate, releaseSlotsOnFinish, type DispatchLimits } from './dispatch-gate.js';

/** Timers on the manual clock: `advance` moves the clock and fires what fell due, in time order. */
export class FakeTimer implements Timer {
  private pending: { dueMs: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(private readonly clock: ManualClock) {}

  after(delayMs: number, fn: () => void): () => void {
    const entry = { dueMs: this.clock.nowMs() + delayMs, fn, cancelled: false };
    this.pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
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

export class RecordingPublisher implements JobPublisher {
  readonly sent: { site: string; worker: string; job: JobMessage }[] = [];
  private held: Promise<void> | undefined;

  /** Holds every publish from now on (its ack "in flight") until the returned function is called. */
  hold(): () => void {
    let release: () => void = () => undefined;
    this.held = new Promise((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  async publish(site: string, worker: string, job: JobMessage): Promise<void> {
    this.sent.push({ site, worker, job });
    await this.held;
  }
}

const dirs: string[] = [];
let n = 0;

/** Removes the fixtures' temp dirs (call from `after`). */
export function removeFixtureDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface FixtureOptions {
  readonly limits?: DispatchLimits;
  /** Agents as site/agent → VM names. */
  readonly agents?: Record<string, readonly string[]>;
  readonly sites?: readonly string[];
  readonly startMs?: number;
  /** Reopen this catalog file (a restart) instead of a new one. */
  readonly dbPath?: string;
}

export function schedulingFixture(opts: FixtureOptions = {}) {
  let dbPath = opts.dbPath;
  if (dbPath === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-policies-'));
    dirs.push(dir);
    dbPath = join(dir, `c${++n}.db`);
  }
  const catalog = SqliteCatalog.open(dbPath);
  const clock = new ManualClock(opts.startMs ?? Date.UTC(2026, 0, 1));
  const timer = new FakeTimer(clock);
  const publisher = new RecordingPublisher();
  const changes = new JobChangeFeed();
  let seq = 0;
  const jobs = new JobService({
    catalog,
    publisher,
    changes,
    clock,
    log: silentLogger(),
    newId: () => `J${String(clock.nowMs()).padStart(14, '0')}${String(++seq).padStart(4, '0')}`,
    replication: [],
    verifySkipWithinMs: 0,
    gcGraceMs: 0,
    gate: new DispatchGate(opts.limits ?? { maxJobsPerAgent: 2, maxJobsPerSite: 8 }),
  });
  const at = clock.nowIso();
  for (const site of opts.sites ?? ['a', 'b']) {
    catalog.upsertWorker({ site, id: 'storage', kind: 'storage', state: 'online', lastSeenAt: at, address: `${site}:1`, version: 't' });
  }
  for (const [key, vms] of Object.entries(opts.agents ?? { 'a/agent-1': ['vm1', 'vm2'] })) {
    const [site = 'a', id = 'agent-1'] = key.split('/');
    catalog.upsertWorker({ site, id, kind: 'agent', state: 'online', lastSeenAt: at, address: null, version: 't' });
    for (const name of vms) catalog.upsertVm({ name, site, worker: id, hypervisor: 'files', disks: [{ name: 'disk0', sizeBytes: 1024 }] });
  }
  releaseSlotsOnFinish(changes, catalog, () => jobs.publishPending(), silentLogger());
  const addPolicy = (input: PolicyInput) => catalog.insertPolicy(Policy.parse(input), clock.nowIso());
  /** Records a worker's finish of a job as the event applier would, and notifies. */
  const finish = (jobId: string, state: 'succeeded' | 'failed', error?: string, result?: unknown) => {
    catalog.updateJob(jobId, {
      state,
      startedAt: clock.nowIso(),
      finishedAt: clock.nowIso(),
      ...(error !== undefined ? { error } : {}),
      ...(result !== undefined ? { result } : {}),
    });
    changes.notify(jobId);
  };
  const start = (jobId: string) => {
    catalog.updateJob(jobId, { state: 'running', startedAt: clock.nowIso() });
    changes.notify(jobId);
  };
  return { catalog, clock, timer, publisher, changes, jobs, addPolicy, finish, start, dbPath };
}
