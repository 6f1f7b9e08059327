/**
 * Dispatch on the controller's side, on a real SQLite catalog: migration 4 (job states cancelled
 * and skipped, cancel_requested_at, shared, vm_workers) over a version-3 file with rows; routing
 * of a VM several agents report to the site's shared queue; the applier naming the agent that
 * took a shared job and recording CANCELLED as cancelled; JobCanceller's three cases.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ManualClock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { WorkerEvent } from '../../shared/messages/events.js';
import type { CancelRequest, JobMessage } from '../../shared/messages/jobs.js';
import { SqliteCatalog, migrations } from '../catalog/sqlite-catalog.js';
import { EventApplier } from './event-applier.js';
import { JobCanceller, type CancelSender } from './job-cancel.js';
import { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';
import { JobService } from './job-service.js';
import { WorkerMonitor } from './worker-monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-dispatch-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

class FakePublisher implements JobPublisher {
  readonly sent: { site: string; worker: string; job: JobMessage }[] = [];
  publish(site: string, worker: string, job: JobMessage): Promise<void> {
    this.sent.push({ site, worker, job });
    return Promise.resolve();
  }
}

class FakeSender implements CancelSender {
  readonly sent: { site: string; worker: string; request: CancelRequest }[] = [];
  send(site: string, worker: string, request: CancelRequest): void {
    this.sent.push({ site, worker, request });
  }
}

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock();
  const publisher = new FakePublisher();
  const sender = new FakeSender();
  const changes = new JobChangeFeed();
  let seq = 0;
  let eventSeq = 0;
  const jobs = new JobService({
    catalog,
    publisher,
    changes,
    clock,
    log: silentLogger(),
    newId: () => `JOB${++seq}`,
    replication: [],
    verifySkipWithinMs: 0,
    gcGraceMs: 0,
  });
  const applier = new EventApplier({ catalog, changes, clock, log: silentLogger() });
  const canceller = new JobCanceller({ catalog, changes, sender, clock, log: silentLogger() });
  const monitor = new WorkerMonitor({ catalog, clock, log: silentLogger(), heartbeatIntervalMs: 1000, offlineAfterMissedBeats: 3 });
  for (const [worker, kind, address] of [['agent-1', 'agent', null], ['agent-2', 'agent', null], ['storage', 'storage', '127.0.0.1:1']] as const) {
    monitor.recordHeartbeat({ site: 'a', worker, kind, at: clock.nowIso(), version: 't', address, runningJobs: 0 });
  }
  const inventory = (worker: string, vms: string[]) =>
    applier.apply({
      eventId: `inv-${++eventSeq}`,
      site: 'a',
      worker,
      at: clock.nowIso(),
      type: 'inventory',
      vms: vms.map((name) => ({ name, hypervisor: 'files', disks: [{ name: 'disk0', sizeBytes: 1024 }] })),
    });
  const jobEvent = (jobId: string, worker: string, event: Partial<WorkerEvent> & { type: string }) =>
    applier.apply({ eventId: `ev-${++eventSeq}`, site: 'a', worker, at: clock.nowIso(), jobId, attempt: 1, ...event } as WorkerEvent);
  return { catalog, clock, publisher, sender, jobs, applier, canceller, inventory, jobEvent };
}

describe('migration 4 (dispatch)', () => {
  it('rebuilds the jobs of a version-3 file with every row, column and index kept, and seeds vm_workers', () => {
    const path = join(dir, `v3-${++n}.db`);
    const db = new Database(path);
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of migrations.filter((x) => x.version <= 3)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, '2026-01-01T00:00:00.000Z');
    }
    db.prepare(`INSERT INTO vms (name, site, worker, hypervisor, disks) VALUES ('vm1', 'a', 'agent-1', 'files', '[]')`).run();
    db.prepare(
      `INSERT INTO jobs (id, kind, state, site, worker, vm, attempt, params, result, error, progress, created_at, published_at, started_at, finished_at)
       VALUES ('J1', 'backup', 'failed', 'a', 'agent-1', 'vm1', 2, '{"vm":"vm1"}', NULL, 'INTERNAL: x', NULL, '2026-01-01T00:00:01.000Z',
               '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:04.000Z')`,
    ).run();
    assert.throws(() => db.prepare(`UPDATE jobs SET state = 'cancelled'`).run(), /CHECK constraint/);
    db.close();

    const catalog = SqliteCatalog.open(path);
    assert.ok(catalog.schemaVersion() >= 4);
    const job = catalog.getJob('J1');
    assert.equal(job?.state, 'failed');
    assert.equal(job?.attempt, 2);
    assert.equal(job?.error, 'INTERNAL: x');
    assert.equal(job?.finishedAt, '2026-01-01T00:00:04.000Z');
    assert.equal(job?.shared, false);
    assert.equal(job?.cancelRequestedAt, null);
    catalog.updateJob('J1', { state: 'cancelled' });
    catalog.updateJob('J1', { state: 'skipped' });
    assert.equal(catalog.getJob('J1')?.state, 'skipped');
    assert.deepEqual(catalog.listVmWorkers('vm1'), [{ vm: 'vm1', site: 'a', worker: 'agent-1' }]);
    catalog.close();

    const check = new Database(path, { readonly: true });
    const indexes = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name);
    for (const name of ['jobs_state', 'jobs_unpublished', 'jobs_kind', 'jobs_cancel_requested']) assert.ok(indexes.includes(name), name);
    assert.throws(() => check.prepare(`SELECT 1 FROM jobs_v4`).get(), /no such table/);
    check.close();
  });
});

describe('shared queue routing', () => {
  it('sends the jobs of a VM two agents report to the shared queue, and names the agent that took it', async () => {
    const t = setup();
    t.inventory('agent-1', ['both', 'one']);
    t.inventory('agent-2', ['both']);
    const shared = await t.jobs.startBackup({ vm: 'both', mode: 'auto' });
    const single = await t.jobs.startBackup({ vm: 'one', mode: 'auto' });
    assert.deepEqual(t.publisher.sent.map((s) => `${s.job.jobId}->${s.site}/${s.worker}`), ['JOB1->a/shared', 'JOB2->a/agent-1']);
    assert.equal(shared.worker, 'shared');
    assert.equal(shared.shared, true);
    assert.equal(single.shared, false);

    t.jobEvent(shared.id, 'agent-2', { type: 'job.started' });
    assert.equal(t.catalog.getJob(shared.id)?.worker, 'agent-2');
    assert.equal(t.catalog.getJob(shared.id)?.state, 'running');
    // Redelivered to the other agent after agent-2 died: the row follows the job.
    t.jobEvent(shared.id, 'agent-1', { type: 'job.started' });
    assert.equal(t.catalog.getJob(shared.id)?.worker, 'agent-1');
    // A job of the single agent keeps its worker whatever reports on it.
    t.jobEvent(single.id, 'agent-2', { type: 'job.started' });
    assert.equal(t.catalog.getJob(single.id)?.worker, 'agent-1');
  });

  it('goes back to one agent once the other stops reporting the VM', async () => {
    const t = setup();
    t.inventory('agent-1', ['both']);
    t.inventory('agent-2', ['both']);
    t.inventory('agent-2', []);
    const job = await t.jobs.startBackup({ vm: 'both', mode: 'auto' });
    assert.equal(job.worker, 'agent-1');
    assert.equal(job.shared, false);
  });
});

describe('JobCanceller', () => {
  it('asks the worker of a published job, re-sends until the job ends, and records CANCELLED as cancelled', async () => {
    const t = setup();
    t.inventory('agent-1', ['vm1']);
    const job = await t.jobs.startBackup({ vm: 'vm1', mode: 'auto' });
    t.jobEvent(job.id, 'agent-1', { type: 'job.started' });
    const requested = t.canceller.cancel(job.id);
    assert.equal(requested.state, 'running');
    assert.equal(requested.cancelRequestedAt, t.clock.nowIso());
    assert.deepEqual(t.sender.sent.map((s) => `${s.site}/${s.worker}:${s.request.jobId}#${s.request.attempt}`), [`a/agent-1:${job.id}#1`]);
    assert.equal(t.canceller.resendPending(), 1);
    assert.equal(t.sender.sent.length, 2);

    t.jobEvent(job.id, 'agent-1', { type: 'job.failed', error: { code: 'CANCELLED', message: 'cancelled on request' } });
    const done = t.catalog.getJob(job.id);
    assert.equal(done?.state, 'cancelled');
    assert.equal(done?.error, 'CANCELLED: cancelled on request');
    assert.equal(t.canceller.resendPending(), 0);
    assert.throws(() => t.canceller.cancel(job.id), (err) => err instanceof PreconditionError && /already finished \(cancelled/.test(err.message));
  });

  it('cancels an unpublished job at once, and it is never published', async () => {
    const t = setup();
    t.inventory('agent-1', ['vm1']);
    const job = await t.jobs.startBackup({ vm: 'vm1', mode: 'auto' });
    // As if its publish had failed: the row is queued and unpublished.
    t.catalog.transaction(() => {
      const row = t.catalog.getJob(job.id);
      assert.ok(row);
      t.catalog.insertJob({ ...row, id: 'HELD', publishedAt: null });
    });
    const cancelled = t.canceller.cancel('HELD');
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.error, 'CANCELLED: cancelled before it was published');
    const before = t.publisher.sent.length;
    await t.jobs.publishPending();
    assert.equal(t.publisher.sent.length, before, 'a cancelled job is not published');
  });

  it('sends a shared job’s cancel to the shared subject and to the agent that took it', async () => {
    const t = setup();
    t.inventory('agent-1', ['both']);
    t.inventory('agent-2', ['both']);
    const job = await t.jobs.startBackup({ vm: 'both', mode: 'auto' });
    t.canceller.cancel(job.id);
    assert.deepEqual(t.sender.sent.map((s) => s.worker), ['shared']);
    t.jobEvent(job.id, 'agent-2', { type: 'job.started' });
    t.canceller.resendPending();
    assert.deepEqual(t.sender.sent.map((s) => s.worker), ['shared', 'agent-2', 'shared']);
  });

  it('refuses a finished job and names an unknown one', async () => {
    const t = setup();
    t.inventory('agent-1', ['vm1']);
    const job = await t.jobs.startBackup({ vm: 'vm1', mode: 'auto' });
    t.jobEvent(job.id, 'agent-1', { type: 'job.failed', error: { code: 'INTERNAL', message: 'boom' } });
    assert.throws(() => t.canceller.cancel(job.id), (err) => err instanceof PreconditionError && err.code === 'FAILED_PRECONDITION' && /already finished \(failed at /.test(err.message));
    assert.throws(() => t.canceller.cancel('NOPE'), /job NOPE not found/);
  });
});
