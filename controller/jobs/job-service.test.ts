import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { AppError } from '../../shared/errors.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import type { BackupRow } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';
import { JobService, type ReplicationPair } from './job-service.js';
import { WorkerMonitor } from './worker-monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

class FakePublisher implements JobPublisher {
  readonly sent: { site: string; worker: string; job: JobMessage }[] = [];
  failing = false;

  publish(site: string, worker: string, job: JobMessage): Promise<void> {
    if (this.failing) return Promise.reject(new Error('nats down'));
    this.sent.push({ site, worker, job });
    return Promise.resolve();
  }
}

function setup(replication: ReplicationPair[] = []) {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock();
  const publisher = new FakePublisher();
  let seq = 0;
  const jobs = new JobService({
    catalog,
    publisher,
    changes: new JobChangeFeed(),
    clock,
    log: silentLogger(),
    newId: () => `JOB${++seq}`,
    replication,
    verifySkipWithinMs: 86_400_000,
    gcGraceMs: 3_600_000,
  });
  const monitor = new WorkerMonitor({ catalog, clock, log: silentLogger(), heartbeatIntervalMs: 1000, offlineAfterMissedBeats: 3 });
  const beat = (site: string, worker: string, kind: 'agent' | 'storage', address: string | null = null) =>
    monitor.recordHeartbeat({ site, worker, kind, at: clock.nowIso(), version: 't', address, runningJobs: 0 });
  const twoSites = () => {
    beat('a', 'agent-1', 'agent');
    beat('a', 'storage', 'storage', '127.0.0.1:1001');
    beat('b', 'storage', 'storage', '127.0.0.1:1002');
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 4096 }] });
  };
  return { catalog, clock, publisher, jobs, monitor, beat, twoSites };
}

const copyRow = (backupId: string, site: string): BackupRow => ({
  backupId,
  site,
  vm: 'vm1',
  createdAt: '2026-01-01T00:00:00.000Z',
  mode: 'full',
  parentBackupId: null,
  jobId: 'J0',
  sizeBytes: 1,
  disks: [],
  verifiedAt: null,
  state: 'ok',
  stateAt: null,
  lockedUntil: null,
  prunedAt: null,
  seenAt: null,
});

const rejectsWith = async (p: Promise<unknown>, type: new (...args: never[]) => AppError, pattern: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });

describe('JobService', () => {
  it('sends a backup to the VM agent with the online storage of its site, then marks it published', async () => {
    const { jobs, publisher, catalog, twoSites } = setup();
    twoSites();
    const job = await jobs.startBackup({ vm: 'vm1', mode: 'full' });
    assert.equal(job.state, 'queued');
    assert.ok(job.publishedAt);
    assert.equal(publisher.sent.length, 1);
    const sent = publisher.sent[0]!;
    assert.equal(`${sent.site}/${sent.worker}`, 'a/agent-1');
    assert.deepEqual(sent.job.params, { vm: 'vm1', mode: 'full', storage: { site: 'a', address: '127.0.0.1:1001' } });
    assert.equal(sent.job.jobId, job.id);
    assert.equal(catalog.getJob(job.id)?.vm, 'vm1');
  });

  it('names what is missing: an unknown VM, no storage, an offline storage', async () => {
    const { jobs, beat, catalog, clock, monitor } = setup();
    await rejectsWith(jobs.startBackup({ vm: 'nope', mode: 'auto' }), NotFoundError, /VM nope not found/);
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [] });
    await rejectsWith(jobs.startBackup({ vm: 'vm1', mode: 'auto' }), PreconditionError, /no storage at site a/);
    beat('a', 'storage', 'storage', '127.0.0.1:1001');
    clock.advance(10_000);
    monitor.sweep();
    await rejectsWith(jobs.startBackup({ vm: 'vm1', mode: 'auto' }), PreconditionError, /no online storage at site a/);
    assert.deepEqual(catalog.listJobs({ limit: 10 }), [], 'a refused job leaves no row');
  });

  it('restores from the VM site by default, from another site on request, and refuses a site without a copy', async () => {
    const { jobs, publisher, catalog, twoSites } = setup();
    twoSites();
    const copy = { backupId: 'B1', vm: 'vm1', createdAt: '2026-01-01T00:00:00.000Z', mode: 'full' as const, parentBackupId: null, jobId: 'J0', sizeBytes: 1, disks: [], verifiedAt: null, state: 'ok' as const, stateAt: null, lockedUntil: null, prunedAt: null, seenAt: null };
    catalog.insertBackup({ ...copy, site: 'a' });
    await jobs.startRestore({ backupId: 'B1', targetDir: '/restore' });
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { backupId: 'B1', vm: 'vm1', targetDir: '/restore', storage: { site: 'a', address: '127.0.0.1:1001' }, verifyOnly: false, format: 'raw', start: false });
    await rejectsWith(jobs.startRestore({ backupId: 'B1', targetDir: '/r', site: 'b' }), PreconditionError, /no copy at site b \(copies at: a\)/);
    catalog.insertBackup({ ...copy, site: 'b' });
    await jobs.startRestore({ backupId: 'B1', targetDir: '/r', site: 'b' });
    assert.equal((publisher.sent.at(-1)?.job.params as { storage: { site: string } }).storage.site, 'b');
    await rejectsWith(jobs.startRestore({ backupId: 'B9', targetDir: '/r' }), NotFoundError, /backup B9 not found/);
    await rejectsWith(jobs.startRestore({ backupId: 'B1', targetDir: '/r', worker: 'agent-9' }), NotFoundError, /agent agent-9 not found/);
  });

  it('sends snapshot jobs to the VM agent, needing no storage, and checks the op\'s arguments', async () => {
    const { jobs, publisher, catalog, beat } = setup();
    beat('a', 'agent-1', 'agent');
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'qemu', disks: [{ name: 'disk0', sizeBytes: 4096 }] });
    const job = await jobs.startSnapshot({ vm: 'vm1', op: 'create', keep: 2 });
    assert.equal(job.kind, 'snapshot');
    assert.equal(`${job.site}/${job.worker}`, 'a/agent-1');
    assert.equal(job.vm, 'vm1');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { vm: 'vm1', op: 'create', keep: 2 });
    await jobs.startSnapshot({ vm: 'vm1', op: 'revert', name: 'before-upgrade' });
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { vm: 'vm1', op: 'revert', name: 'before-upgrade' });
    await rejectsWith(jobs.startSnapshot({ vm: 'nope', op: 'list' }), NotFoundError, /VM nope not found/);
    await rejectsWith(jobs.startSnapshot({ vm: 'vm1', op: 'remove' }), ValidationError, /^name: is required to remove a snapshot/);
    await rejectsWith(jobs.startSnapshot({ vm: 'vm1', op: 'list', keep: 2 }), ValidationError, /^keep: applies only to create/);
    await rejectsWith(jobs.startSnapshot({ vm: 'vm1', op: 'create', name: 'bulwark-x' }), ValidationError, /^name: must not start with "bulwark-"/);
    await rejectsWith(jobs.startSnapshot({ vm: 'vm1', op: 'create', name: 'a b' }), ValidationError, /^name: must be letters, digits/);
    await rejectsWith(jobs.startSnapshot({ vm: 'vm1', op: 'create', keep: 0 }), ValidationError, /^keep: must be at least 1/);
    assert.equal(catalog.listJobs({ limit: 10 }).length, 2, 'a refused job leaves no row');
  });

  it('syncs along the configured pair, or the only other storage site', async () => {
    const configured = setup([{ from: 'a', to: 'b' }]);
    configured.twoSites();
    const job = await configured.jobs.startSync({});
    assert.equal(`${job.site}/${job.worker}`, 'b/storage');
    assert.deepEqual(configured.publisher.sent[0]?.job.params, { mode: 'pull', source: { site: 'a', address: '127.0.0.1:1001' }, concurrency: 2 });

    const unconfigured = setup();
    unconfigured.twoSites();
    const toA = await unconfigured.jobs.startSync({ toSite: 'a' });
    assert.equal(toA.site, 'a');
    assert.deepEqual(unconfigured.publisher.sent[0]?.job.params, { mode: 'pull', source: { site: 'b', address: '127.0.0.1:1002' }, concurrency: 2 });
    const fromPrimary = await unconfigured.jobs.startSync({});
    assert.equal(fromPrimary.site, 'b', 'the site with agents is the source');
    await rejectsWith(unconfigured.jobs.startSync({ fromSite: 'a', toSite: 'a' }), ValidationError, /to_site: must differ/);
    await rejectsWith(unconfigured.jobs.startSync({ fromSite: 'a', toSite: 'c' }), PreconditionError, /no storage at site c/);
  });

  it("pushes from the primary's storage for a push pair, with the pair's rate and concurrency unless the request sets its own", async () => {
    const { jobs, publisher, twoSites } = setup([{ from: 'a', to: 'b', mode: 'push', rateBytesPerSecond: 1 << 20, concurrency: 4 }]);
    twoSites();
    const push = await jobs.startSync({});
    assert.equal(`${push.site}/${push.worker}`, 'a/storage', 'a push runs at the primary');
    assert.deepEqual(publisher.sent[0]?.job.params, {
      mode: 'push',
      target: { site: 'b', address: '127.0.0.1:1002' },
      rateBytesPerSecond: 1 << 20,
      concurrency: 4,
    });
    const pull = await jobs.startSync({ mode: 'pull', rateBytesPerSecond: 4096, concurrency: 1 });
    assert.equal(pull.site, 'b');
    assert.deepEqual(publisher.sent[1]?.job.params, {
      mode: 'pull',
      source: { site: 'a', address: '127.0.0.1:1001' },
      rateBytesPerSecond: 4096,
      concurrency: 1,
    });
  });

  it('verifies a site with every other storage as a repair peer', async () => {
    const { jobs, publisher, twoSites } = setup([{ from: 'a', to: 'b' }]);
    twoSites();
    const job = await jobs.startVerify({ repair: true });
    assert.equal(`${job.site}/${job.worker}`, 'a/storage');
    assert.deepEqual(publisher.sent[0]?.job.params, {
      repair: true,
      peers: [{ site: 'b', address: '127.0.0.1:1002' }],
      skipVerifiedWithinMs: 86_400_000,
      force: false,
    });
    await jobs.startVerify({ site: 'b', repair: false });
    assert.deepEqual(publisher.sent[1]?.job.params, {
      repair: false,
      peers: [{ site: 'a', address: '127.0.0.1:1001' }],
      skipVerifiedWithinMs: 86_400_000,
      force: false,
    });
  });

  it('verifies one backup at a site holding it, or one VM, with the skip age and force', async () => {
    const { jobs, publisher, catalog, twoSites } = setup([{ from: 'a', to: 'b' }]);
    twoSites();
    catalog.insertBackup(copyRow('B1', 'b'));
    const one = await jobs.startVerify({ repair: false, backupId: 'B1', force: true });
    assert.equal(`${one.site}/${one.worker}`, 'b/storage', 'the site holding the copy, not the primary');
    assert.equal(one.vm, 'vm1');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, {
      repair: false,
      peers: [{ site: 'a', address: '127.0.0.1:1001' }],
      backupId: 'B1',
      skipVerifiedWithinMs: 86_400_000,
      force: true,
    });
    catalog.insertBackup(copyRow('B1', 'a'));
    assert.equal((await jobs.startVerify({ repair: false, backupId: 'B1' })).site, 'a', 'the primary when it holds a copy');
    const vm = await jobs.startVerify({ repair: true, vm: 'vm1', skipVerifiedWithinMs: 0 });
    assert.deepEqual(publisher.sent.at(-1)?.job.params, {
      repair: true,
      peers: [{ site: 'b', address: '127.0.0.1:1002' }],
      vm: 'vm1',
      skipVerifiedWithinMs: 0,
      force: false,
    });
    assert.equal(vm.vm, 'vm1');
    await rejectsWith(jobs.startVerify({ repair: false, backupId: 'B1', vm: 'vm1' }), ValidationError, /^vm: give backup_id or vm, not both/);
    await rejectsWith(jobs.startVerify({ repair: false, backupId: 'B9' }), NotFoundError, /backup B9 not found/);
    await rejectsWith(jobs.startVerify({ repair: false, vm: 'vm9' }), NotFoundError, /VM vm9 not found/);
    catalog.insertBackup(copyRow('B2', 'a'));
    await rejectsWith(jobs.startVerify({ repair: false, backupId: 'B2', site: 'b' }), PreconditionError, /backup B2 has no copy at site b \(copies at: a\)/);
  });

  it('sends a deep verify as a verify-only restore to the VM agent, without a target directory', async () => {
    const { jobs, publisher, catalog, twoSites } = setup();
    twoSites();
    catalog.insertBackup(copyRow('B1', 'a'));
    const job = await jobs.startRestore({ backupId: 'B1', verifyOnly: true, format: 'raw', start: false });
    assert.equal(`${job.site}/${job.worker}`, 'a/agent-1');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { backupId: 'B1', vm: 'vm1', targetDir: '/', storage: { site: 'a', address: '127.0.0.1:1001' }, verifyOnly: true, format: 'raw', start: false });
    await rejectsWith(jobs.startRestore({ backupId: 'B1' }), ValidationError, /^target_dir: must not be empty/);
  });

  it('prunes one site with the given rules, for one VM or all; at least one rule', async () => {
    const { jobs, publisher, catalog, twoSites } = setup([{ from: 'a', to: 'b' }]);
    twoSites();
    const all = await jobs.startPrune({ keep: { last: 3, daily: 7 }, dryRun: true });
    assert.equal(`${all.site}/${all.worker}`, 'a/storage');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { keep: { last: 3, daily: 7 }, dryRun: true });
    const one = await jobs.startPrune({ site: 'b', vm: 'vm1', keep: { yearly: 1 }, dryRun: false });
    assert.equal(`${one.site}/${one.vm}`, 'b/vm1');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { vm: 'vm1', keep: { yearly: 1 }, dryRun: false });
    await rejectsWith(jobs.startPrune({ keep: {}, dryRun: true }), ValidationError, /^keep: give at least one retention rule \(keep_last, keep_hourly/);
    await rejectsWith(jobs.startPrune({ vm: 'vm9', keep: { last: 1 }, dryRun: true }), NotFoundError, /VM vm9 not found/);
    await rejectsWith(jobs.startPrune({ site: 'c', keep: { last: 1 }, dryRun: true }), PreconditionError, /no storage at site c/);
    catalog.insertBackup({ ...copyRow('B1', 'a'), vm: 'gone' });
    await jobs.startPrune({ vm: 'gone', keep: { last: 1 }, dryRun: true });
    assert.equal(publisher.sent.at(-1)?.job.kind, 'prune', 'a VM with backups but no longer in the inventory can be pruned');
  });

  it('collects garbage with the configured grace unless the request sets one', async () => {
    const { jobs, publisher, twoSites } = setup([{ from: 'a', to: 'b' }]);
    twoSites();
    await jobs.startGc({ dryRun: false });
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { graceMs: 3_600_000, dryRun: false });
    const b = await jobs.startGc({ site: 'b', graceMs: 0, dryRun: true });
    assert.equal(b.site, 'b');
    assert.deepEqual(publisher.sent.at(-1)?.job.params, { graceMs: 0, dryRun: true });
  });

  it('locks every copy with one job per site, or one site; refuses a past time, a shorter lock, a site without a copy', async () => {
    const { jobs, publisher, catalog, clock, twoSites, monitor } = setup();
    twoSites();
    catalog.insertBackup(copyRow('B1', 'a'));
    catalog.insertBackup(copyRow('B1', 'b'));
    const until = '2030-01-01T00:00:00.000Z';
    const locks = await jobs.startLock({ backupId: 'B1', until });
    assert.deepEqual(locks.map((j) => `${j.kind}@${j.site}/${j.worker}`), ['lock@a/storage', 'lock@b/storage']);
    assert.deepEqual(publisher.sent.slice(-2).map((s) => s.job.params), [{ backupId: 'B1', until }, { backupId: 'B1', until }]);
    assert.deepEqual((await jobs.startLock({ backupId: 'B1', until, site: 'b' })).map((j) => j.site), ['b']);

    await rejectsWith(jobs.startLock({ backupId: 'B1', until: clock.nowIso() }), ValidationError, /^until: must be in the future/);
    await rejectsWith(jobs.startLock({ backupId: 'B9', until }), NotFoundError, /backup B9 not found/);
    catalog.insertBackup(copyRow('B2', 'a'));
    await rejectsWith(jobs.startLock({ backupId: 'B2', until, site: 'b' }), PreconditionError, /backup B2 has no copy at site b/);
    catalog.updateBackup('B1', 'b', { lockedUntil: '2031-01-01T00:00:00.000Z' });
    const sentBefore = publisher.sent.length;
    await rejectsWith(jobs.startLock({ backupId: 'B1', until }), PreconditionError, /locked at site b until 2031-01-01T00:00:00.000Z: a lock can only be extended/);
    assert.equal(publisher.sent.length, sentBefore, 'a refusal at one site creates no job at any site');

    clock.advance(10_000);
    monitor.sweep();
    await rejectsWith(jobs.startLock({ backupId: 'B2', until }), PreconditionError, /no online storage at site a/);
  });

  it('never picks a pruned copy', async () => {
    const { jobs, catalog, twoSites } = setup();
    twoSites();
    catalog.insertBackup(copyRow('B1', 'a'));
    catalog.updateBackup('B1', 'a', { prunedAt: '2026-01-02T00:00:00.000Z' });
    await rejectsWith(jobs.startRestore({ backupId: 'B1', targetDir: '/r' }), NotFoundError, /backup B1 not found/);
    await rejectsWith(jobs.startLock({ backupId: 'B1', until: '2030-01-01T00:00:00.000Z' }), NotFoundError, /backup B1 not found/);
  });

  it('keeps a job whose publish failed and publishes it later, with the same id and attempt', async () => {
    const { jobs, publisher, catalog, twoSites } = setup();
    twoSites();
    publisher.failing = true;
    const job = await jobs.startBackup({ vm: 'vm1', mode: 'auto' });
    assert.equal(job.publishedAt, null);
    assert.deepEqual(catalog.listUnpublishedJobs().map((j) => j.id), [job.id]);
    publisher.failing = false;
    assert.equal(await jobs.publishPending(), 1);
    assert.equal(publisher.sent[0]?.job.jobId, job.id);
    assert.equal(publisher.sent[0]?.job.attempt, 1);
    assert.deepEqual(catalog.listUnpublishedJobs(), []);
    assert.equal(await jobs.publishPending(), 0);
  });
});

describe('WorkerMonitor', () => {
  it('marks a worker offline after the missed beats and online again on its next beat', () => {
    const { beat, clock, monitor, catalog } = setup();
    beat('a', 'agent-1', 'agent');
    clock.advance(2999);
    assert.deepEqual(monitor.sweep(), []);
    clock.advance(2);
    assert.deepEqual(monitor.sweep().map((w) => w.id), ['agent-1']);
    assert.equal(catalog.listWorkers()[0]?.state, 'offline');
    beat('a', 'agent-1', 'agent');
    assert.equal(catalog.listWorkers()[0]?.state, 'online');
  });
});
