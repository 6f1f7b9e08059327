import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { BackupRow, JobRow } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { computeReplicationLag, ReplicationStatusReader } from './replication-status.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-lag-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const at = (minute: number) => new Date(T0 + minute * MIN).toISOString();

const copy = (backupId: string, site: string, minute: number, over: Partial<BackupRow> = {}): BackupRow => ({
  backupId,
  site,
  vm: 'vm1',
  createdAt: at(minute),
  mode: 'incremental',
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
  ...over,
});

describe('replication lag', () => {
  const now = T0 + 100 * MIN;

  it('is 0 when the replica holds the primary newest backup, with the data age at the replica', () => {
    const [lag] = computeReplicationLag(
      [copy('B1', 'a', 10), copy('B2', 'a', 40)],
      [copy('B1', 'b', 10), copy('B2', 'b', 40)],
      now,
    );
    assert.deepEqual(lag, {
      vm: 'vm1',
      newestAtPrimary: { backupId: 'B2', createdAt: at(40) },
      newestAtReplica: { backupId: 'B2', createdAt: at(40) },
      lagMs: 0,
      notYetReplicated: 0,
      dataAgeAtReplicaMs: 60 * MIN,
      backupsAtPrimary: 2,
      backupsAtReplica: 2,
    });
  });

  it('is the age of the oldest primary backup newer than the replica newest: how long the replica is behind', () => {
    const [lag] = computeReplicationLag(
      [copy('B1', 'a', 10), copy('B2', 'a', 40), copy('B3', 'a', 70), copy('B4', 'a', 90)],
      [copy('B1', 'b', 10), copy('B2', 'b', 40)],
      now,
    );
    assert.equal(lag?.lagMs, 30 * MIN, 'B3 (minute 70) is the first backup the replica lacks');
    assert.equal(lag?.notYetReplicated, 2);
    assert.equal(lag?.dataAgeAtReplicaMs, 60 * MIN);
    assert.deepEqual(lag?.newestAtReplica, { backupId: 'B2', createdAt: at(40) });
  });

  it('with nothing at the replica: since the oldest primary backup, and no data age', () => {
    const [lag] = computeReplicationLag([copy('B2', 'a', 40), copy('B1', 'a', 10)], [], now);
    assert.equal(lag?.lagMs, 90 * MIN);
    assert.equal(lag?.notYetReplicated, 2);
    assert.equal(lag?.dataAgeAtReplicaMs, null);
    assert.equal(lag?.newestAtReplica, null);
  });

  it('does not count copies the replica pruned as not yet replicated, nor a pruned primary copy', () => {
    const [lag] = computeReplicationLag(
      [copy('B1', 'a', 10), copy('B2', 'a', 40), copy('B0', 'a', 5, { prunedAt: at(50) })],
      [copy('B1', 'b', 10, { prunedAt: at(60) }), copy('B2', 'b', 40)],
      now,
    );
    assert.equal(lag?.lagMs, 0);
    assert.equal(lag?.notYetReplicated, 0);
    assert.equal(lag?.backupsAtPrimary, 2);
    assert.equal(lag?.backupsAtReplica, 1);
  });

  it('a replica missing an older backup but holding the newest has no lag, but counts the gap', () => {
    const [lag] = computeReplicationLag(
      [copy('B1', 'a', 10), copy('B2', 'a', 40), copy('B3', 'a', 70)],
      [copy('B1', 'b', 10), copy('B3', 'b', 70)],
      now,
    );
    assert.equal(lag?.lagMs, 0);
    assert.equal(lag?.notYetReplicated, 1);
  });

  it('reports each VM with backups at the primary, by name; a VM only at the replica is left out', () => {
    const lags = computeReplicationLag(
      [copy('X1', 'a', 10, { vm: 'vm2' }), copy('B1', 'a', 20)],
      [copy('B1', 'b', 20), copy('Z1', 'b', 20, { vm: 'vm9' })],
      now,
    );
    assert.deepEqual(lags.map((l) => [l.vm, l.lagMs]), [['vm1', 0], ['vm2', 90 * MIN]]);
  });

  it('reads the copies and the last sync of each pair from the catalog', () => {
    const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
    const clock = new ManualClock(now);
    for (const c of [copy('B1', 'a', 10), copy('B2', 'a', 40), copy('B1', 'b', 10)]) catalog.insertBackup(c);
    const sync = (id: string, minute: number, state: JobRow['state'], over: Partial<JobRow> = {}): JobRow => ({
      id,
      kind: 'sync',
      state,
      site: 'b',
      worker: 'storage',
      vm: null,
      attempt: 1,
      params: { mode: 'pull', source: { site: 'a', address: '127.0.0.1:1' } },
      result: null,
      error: null,
      progress: null,
      createdAt: at(minute),
      publishedAt: at(minute),
      startedAt: null,
      finishedAt: state === 'succeeded' || state === 'failed' ? at(minute + 1) : null,
      ...over,
    });
    catalog.insertJob(sync('S1', 20, 'succeeded'));
    catalog.insertJob(sync('S2', 50, 'failed'));
    // A push from c to a: another pair, known only from its job.
    catalog.insertJob(sync('S3', 55, 'running', { site: 'c', params: { mode: 'push', target: { site: 'a', address: '127.0.0.1:2' } } }));
    // A sync row from before push existed: params carry only the source.
    catalog.insertJob(sync('S0', 5, 'succeeded', { params: { source: { site: 'a', address: '127.0.0.1:1' } } }));
    const reader = new ReplicationStatusReader({ catalog, clock, pairs: [{ from: 'a', to: 'b', mode: 'pull', intervalMs: 3_600_000 }] });
    const report = reader.status();
    assert.equal(report.now, at(100));
    const [ab, ca] = report.pairs;
    assert.equal(ab?.configured, true);
    assert.equal(ab?.intervalMs, 3_600_000);
    assert.equal(ab?.lastSync?.id, 'S2');
    assert.equal(ab?.lastSuccessAt, at(21));
    assert.equal(ab?.vms[0]?.lagMs, 60 * MIN);
    assert.deepEqual(
      { from: ca?.from, to: ca?.to, mode: ca?.mode, configured: ca?.configured, last: ca?.lastSync?.id, success: ca?.lastSuccessAt },
      { from: 'c', to: 'a', mode: 'push', configured: false, last: 'S3', success: null },
    );
    catalog.close();
  });
});
