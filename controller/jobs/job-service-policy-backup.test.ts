import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { JobChangeFeed } from './job-change-feed.js';
import type { JobPublisher } from './job-publisher.js';
import { JobService } from './job-service.js';
import { WorkerMonitor } from './worker-monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-jobs-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock();
  const sent: JobMessage[] = [];
  const publisher: JobPublisher = {
    publish: (_site, _worker, job) => {
      sent.push(job);
      return Promise.resolve();
    },
  };
  let seq = 0;
  const jobs = new JobService({
    catalog,
    publisher,
    changes: new JobChangeFeed(),
    clock,
    log: silentLogger(),
    newId: () => `JOB${++seq}`,
    replication: [],
    verifySkipWithinMs: 86_400_000,
    gcGraceMs: 3_600_000,
  });
  const monitor = new WorkerMonitor({ catalog, clock, log: silentLogger(), heartbeatIntervalMs: 1000, offlineAfterMissedBeats: 3 });
  const beat = (site: string, worker: string, kind: 'agent' | 'storage', address: string | null = null) =>
    monitor.recordHeartbeat({ site, worker, kind, at: clock.nowIso(), version: 't', address, runningJobs: 0 });
  beat('a', 'agent-1', 'agent');
  beat('a', 'storage', 'storage', '127.0.0.1:1001');
  beat('b', 'storage', 'storage', '127.0.0.1:1002');
  catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [] });
  return { jobs, sent };
}

describe('JobService.startBackup with policy fields', () => {
  it('sends the policy consistency to the agent and backs up into the storage site asked', async () => {
    const { jobs, sent } = setup();
    const job = await jobs.startBackup({
      vm: 'vm1',
      mode: 'auto',
      consistency: { mode: 'application', onFailure: 'continue' },
      storageSite: 'b',
      policy: 'nightly',
      dueAt: '2026-01-01T02:00:00.000Z',
    });
    assert.deepEqual(job.params, {
      vm: 'vm1',
      mode: 'auto',
      storage: { site: 'b', address: '127.0.0.1:1002' },
      consistency: { mode: 'application', onFailure: 'continue' },
    });
    assert.equal(job.site, 'a', "run by the VM's own agent");
    const message = sent.find((m) => m.jobId === job.id);
    assert.ok(message?.kind === 'backup');
    assert.deepEqual(message.params.consistency, { mode: 'application', onFailure: 'continue' });
    assert.equal(message.dueAt, '2026-01-01T02:00:00.000Z');
  });

  it("without them: the VM's own site and no consistency request", async () => {
    const { jobs } = setup();
    const job = await jobs.startBackup({ vm: 'vm1', mode: 'full' });
    assert.deepEqual(job.params, { vm: 'vm1', mode: 'full', storage: { site: 'a', address: '127.0.0.1:1001' } });
  });

  it('a storage site without a storage is refused, naming it', async () => {
    const { jobs } = setup();
    await assert.rejects(jobs.startBackup({ vm: 'vm1', mode: 'auto', storageSite: 'c' }), (err: unknown) => err instanceof PreconditionError && /no storage at site c/.test(err.message));
  });
});

describe('JobService.startBatch (a policy due time)', () => {
  it('creates backups and snapshot creates with their scheduling fields, an error in place of a bad request, then publishes them', async () => {
    const { jobs, sent } = setup();
    const scheduling = { policy: 'p', priority: 20, dueAt: '2026-01-01T00:00:00.000Z', maxAttempts: 2 };
    const results = await jobs.startBatch([
      { kind: 'snapshot', vm: 'vm1', keep: 3, ...scheduling },
      { kind: 'backup', vm: 'nope', mode: 'auto', ...scheduling },
      { kind: 'backup', vm: 'vm1', mode: 'full', storageSite: 'b', ...scheduling },
      { kind: 'backup', vm: 'vm1', mode: 'auto', storageSite: 'c', ...scheduling },
    ]);
    const [snap, unknown, backup, noStorage] = results;
    assert.ok(snap && !(snap instanceof Error));
    assert.equal(snap.kind, 'snapshot');
    assert.deepEqual(snap.params, { vm: 'vm1', op: 'create', keep: 3 });
    assert.deepEqual([snap.policy, snap.priority, snap.dueAt, snap.maxAttempts], ['p', 20, '2026-01-01T00:00:00.000Z', 2]);
    assert.ok(unknown instanceof Error && /vm/i.test(unknown.message), 'an unknown VM is refused in its place');
    assert.ok(backup && !(backup instanceof Error));
    assert.deepEqual((backup.params as { storage: unknown }).storage, { site: 'b', address: '127.0.0.1:1002' });
    assert.ok(noStorage instanceof PreconditionError, 'no storage at site c');
    assert.deepEqual(sent.map((m) => [m.jobId, m.kind, m.dueAt]), [
      [snap.id, 'snapshot', '2026-01-01T00:00:00.000Z'],
      [backup.id, 'backup', '2026-01-01T00:00:00.000Z'],
    ]);
  });

  it('carries scheduling fields on a single snapshot job too', async () => {
    const { jobs } = setup();
    const job = await jobs.startSnapshot({ vm: 'vm1', op: 'create', keep: 1, policy: 'p', priority: 10, dueAt: '2026-01-01T00:00:00.000Z', maxAttempts: 3 });
    assert.deepEqual([job.policy, job.priority, job.dueAt, job.maxAttempts], ['p', 10, '2026-01-01T00:00:00.000Z', 3]);
  });
});
