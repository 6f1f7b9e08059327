/** The catalog's repairs, alerts and the copy state they imply, in a SQLite file. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { DamageAlert, RepairRecord } from '../../shared/messages/events.js';
import type { BackupRow, JobRow } from './catalog.js';
import { SqliteCatalog, migrations } from './sqlite-catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-catalog-repairs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `catalog-${++n}.db`);

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

const repair = (repairId: string, minute: number, over: Partial<RepairRecord> = {}): RepairRecord => ({
  repairId,
  site: 'a',
  object: 'chunk',
  digest: 'ab'.repeat(32),
  backupId: null,
  disk: null,
  problem: 'missing',
  trigger: 'scrub',
  peer: 'b',
  bytes: 1024,
  at: at(minute),
  affected: [{ backupId: 'B1', vm: 'vm1', disk: 'disk0', offsetBytes: 0, lengthBytes: 1024 }],
  ...over,
});

const alert = (alertId: string, over: Partial<DamageAlert> = {}): DamageAlert => ({
  alertId,
  site: 'a',
  object: 'index',
  digest: null,
  backupId: 'B1',
  disk: 'disk0',
  problem: 'checksum mismatch',
  peersTried: [{ site: 'b', error: 'unreachable' }],
  raisedAt: at(1),
  affected: [],
  message: 'vm1/disk0 cannot be restored from site a',
  ...over,
});

const backup = (backupId: string, site: string): BackupRow => ({
  backupId,
  site,
  vm: 'vm1',
  createdAt: at(0),
  mode: 'full',
  parentBackupId: null,
  jobId: 'j1',
  sizeBytes: 1024,
  disks: [],
  verifiedAt: null,
  state: 'ok',
  stateAt: null,
  lockedUntil: null,
  prunedAt: null,
  seenAt: null,
});

describe('SqliteCatalog: repairs and alerts', () => {
  it('lists repairs newest first, by site, by affected VM, since a time, up to a limit', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertRepair(repair('R1', 1));
    catalog.insertRepair(repair('R2', 2, { site: 'b', peer: 'a', trigger: 'read' }));
    catalog.insertRepair(
      repair('R3', 3, {
        object: 'manifest',
        digest: null,
        backupId: 'B9',
        affected: [{ backupId: 'B9', vm: 'vm2', disk: 'root', offsetBytes: 0, lengthBytes: 0 }],
      }),
    );
    assert.equal(catalog.insertRepair(repair('R1', 9)), false, 'a known id is not recorded again');
    const ids = (rs: RepairRecord[]) => rs.map((r) => r.repairId);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 10 })), ['R3', 'R2', 'R1']);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 10, site: 'a' })), ['R3', 'R1']);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 10, vm: 'vm2' })), ['R3']);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 10, vm: 'vm1' })), ['R2', 'R1']);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 10, since: at(2) })), ['R3', 'R2']);
    assert.deepEqual(ids(catalog.listRepairs({ limit: 1 })), ['R3']);
    assert.deepEqual(catalog.listRepairs({ limit: 10, site: 'b' })[0], repair('R2', 2, { site: 'b', peer: 'a', trigger: 'read' }));
    catalog.close();
  });

  it('keeps an alert with every field; its own backup counts as covered even with no affected range', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertBackup(backup('B1', 'a'));
    catalog.insertBackup(backup('B1', 'b'));
    assert.equal(catalog.insertAlert(alert('A1')), true);
    assert.equal(catalog.insertAlert(alert('A1', { message: 'other' })), false);
    assert.deepEqual(catalog.getAlert('A1'), { ...alert('A1'), state: 'open', resolvedAt: null, resolution: null });
    assert.equal(catalog.getBackupCopy('B1', 'a')?.state, 'damaged', 'read damaged while the alert is open');
    assert.equal(catalog.getBackupCopy('B1', 'b')?.state, 'ok');
    assert.equal(catalog.listBackups({ site: 'a' })[0]?.state, 'damaged');
    assert.equal(catalog.getBackupCopies('B1').find((c) => c.site === 'a')?.state, 'damaged');
    assert.equal(catalog.latestBackup('vm1')?.backupId, 'B1');

    assert.equal(catalog.recordAlertResolution('A1', at(3), 'repaired from b'), true);
    assert.equal(catalog.recordAlertResolution('A1', at(4), 'later'), false);
    assert.equal(catalog.getAlert('A1')?.resolution, 'repaired from b');
    assert.equal(catalog.getBackupCopy('B1', 'a')?.state, 'ok', 'its stored finding was never changed');
    catalog.close();
  });

  it('lists open alerts, or all, newest raised first', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertAlert(alert('A1', { raisedAt: at(1) }));
    catalog.insertAlert(alert('A2', { raisedAt: at(2) }));
    catalog.recordAlertResolution('A3', at(4), 'repaired from b');
    catalog.insertAlert(alert('A3', { raisedAt: at(3) }));
    catalog.recordAlertResolution('A1', at(5), 'chunk re-sent by a backup');
    assert.deepEqual(catalog.listAlerts({ openOnly: true, limit: 10 }).map((a) => a.alertId), ['A2']);
    assert.deepEqual(
      catalog.listAlerts({ openOnly: false, limit: 10 }).map((a) => `${a.alertId}:${a.state}`),
      ['A3:resolved', 'A2:open', 'A1:resolved'],
    );
    assert.deepEqual(catalog.listAlerts({ openOnly: false, limit: 1 }).map((a) => a.alertId), ['A3']);
    catalog.close();
  });

  it('filters jobs by kind and by finish time', () => {
    const catalog = SqliteCatalog.open(freshPath());
    const job = (id: string, kind: JobRow['kind'], finishedAt: string | null): JobRow => ({
      id,
      kind,
      state: finishedAt ? 'failed' : 'queued',
      site: 'b',
      worker: 'storage',
      vm: null,
      attempt: 1,
      params: {},
      result: null,
      error: null,
      progress: null,
      createdAt: at(Number(id.slice(1))),
      publishedAt: null,
      startedAt: null,
      finishedAt,
    });
    catalog.insertJob(job('J1', 'sync', at(2)));
    catalog.insertJob(job('J2', 'verify', at(3)));
    catalog.insertJob(job('J3', 'sync', null));
    assert.deepEqual(catalog.listJobs({ kind: 'sync', limit: 10 }).map((j) => j.id), ['J3', 'J1']);
    assert.deepEqual(catalog.listJobs({ state: 'failed', finishedSince: at(3), limit: 10 }).map((j) => j.id), ['J2']);
    catalog.close();
  });

  it('upgrades a version 2 catalog, keeping its backups, and reads them ok', () => {
    const path = freshPath();
    const old = new Database(path);
    old.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of migrations.filter((x) => x.version <= 2)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, at(0));
    }
    old
      .prepare(
        `INSERT INTO backups (backup_id, site, vm, created_at, mode, parent, job_id, size_bytes, disks, verified_at, state)
         VALUES ('B1', 'a', 'vm1', ?, 'full', NULL, 'j1', 1024, '[]', NULL, 'ok')`,
      )
      .run(at(0));
    old.close();
    const catalog = SqliteCatalog.open(path);
    assert.equal(catalog.schemaVersion(), migrations.at(-1)?.version);
    assert.deepEqual(catalog.getBackupCopy('B1', 'a'), backup('B1', 'a'));
    assert.deepEqual(catalog.listRepairs({ limit: 10 }), []);
    catalog.close();
  });
});
