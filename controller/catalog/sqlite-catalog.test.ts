import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CorruptDataError } from '../../shared/errors.js';
import type { BackupRow, JobRow } from './catalog.js';
import { SqliteCatalog, migrations } from './sqlite-catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = () => join(dir, `catalog-${++n}.db`);

const job = (id: string, over: Partial<JobRow> = {}): JobRow => ({
  id,
  kind: 'backup',
  state: 'queued',
  site: 'a',
  worker: 'agent-1',
  vm: 'vm1',
  attempt: 1,
  params: { vm: 'vm1', mode: 'auto', storage: { site: 'a', address: '127.0.0.1:1' } },
  result: null,
  error: null,
  progress: null,
  createdAt: `2026-01-01T00:00:0${id.length % 10}.000Z`,
  publishedAt: null,
  startedAt: null,
  finishedAt: null,
  ...over,
});

const backup = (backupId: string, site: string, over: Partial<BackupRow> = {}): BackupRow => ({
  backupId,
  site,
  vm: 'vm1',
  createdAt: '2026-01-01T00:00:00.000Z',
  mode: 'full',
  parentBackupId: null,
  jobId: 'j1',
  sizeBytes: 1024,
  disks: [{ name: 'root', sizeBytes: 1024 }],
  verifiedAt: null,
  state: 'ok',
  stateAt: null,
  lockedUntil: null,
  prunedAt: null,
  seenAt: null,
  ...over,
});

describe('SqliteCatalog', () => {
  it('migrates a new file to the newest version, in WAL mode', () => {
    const path = freshPath();
    const catalog = SqliteCatalog.open(path);
    assert.equal(catalog.schemaVersion(), migrations.at(-1)?.version);
    catalog.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, [
      'alert_backups',
      'alert_resolutions',
      'alerts',
      'api_tokens',
      'applied_events',
      'audit_log',
      'backups',
      'jobs',
      'policies',
      'policy_runs',
      'repairs',
      'rpo_alerts',
      'schema_version',
      'vm_workers',
      'vms',
      'webhook_outbox',
      'workers',
    ]);
    db.close();
  });

  it('keeps its data and version across a reopen, running no migration twice', () => {
    const path = freshPath();
    const first = SqliteCatalog.open(path);
    first.insertJob(job('J1'));
    first.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 10 }] });
    first.insertBackup(backup('B1', 'a'));
    assert.equal(first.recordEvent('E1', '2026-01-01T00:00:00.000Z'), true);
    first.close();

    const second = SqliteCatalog.open(path);
    assert.equal(second.schemaVersion(), migrations.at(-1)?.version);
    assert.equal(second.getJob('J1')?.state, 'queued');
    assert.deepEqual(second.getVm('vm1')?.disks, [{ name: 'root', sizeBytes: 10 }]);
    assert.equal(second.listBackups({}).length, 1);
    assert.equal(second.recordEvent('E1', '2026-01-01T00:00:01.000Z'), false, 'an applied event stays applied');
    second.close();
    const db = new Database(path, { readonly: true });
    assert.equal((db.prepare('SELECT COUNT(*) AS c FROM schema_version').get() as { c: number }).c, migrations.length);
    db.close();
  });

  it('refuses a file from a newer controller', () => {
    const path = freshPath();
    SqliteCatalog.open(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (999, ?)').run('2026-01-01T00:00:00.000Z');
    db.close();
    assert.throws(() => SqliteCatalog.open(path), CorruptDataError);
  });

  it('validates JSON columns when reading them', () => {
    const path = freshPath();
    const catalog = SqliteCatalog.open(path);
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [] });
    catalog.close();
    const db = new Database(path);
    db.prepare(`UPDATE vms SET disks = '[{"name": 5}]'`).run();
    db.close();
    const reopened = SqliteCatalog.open(path);
    assert.throws(() => reopened.getVm('vm1'), (err: unknown) => err instanceof CorruptDataError && /vms\.disks of vm1/.test(err.message));
    reopened.close();
  });

  it('marks workers offline once not seen since the cutoff, reporting each once', () => {
    const catalog = SqliteCatalog.open(freshPath());
    const base = { kind: 'agent' as const, state: 'online' as const, address: null, version: '0.1.0' };
    catalog.upsertWorker({ ...base, site: 'a', id: 'old', lastSeenAt: '2026-01-01T00:00:00.000Z' });
    catalog.upsertWorker({ ...base, site: 'a', id: 'new', lastSeenAt: '2026-01-01T00:00:10.000Z' });
    assert.deepEqual(catalog.markWorkersOffline('2026-01-01T00:00:05.000Z').map((w) => w.id), ['old']);
    assert.deepEqual(catalog.markWorkersOffline('2026-01-01T00:00:05.000Z'), []);
    assert.deepEqual(
      catalog.listWorkers().map((w) => `${w.id}:${w.state}`),
      ['new:online', 'old:offline'],
    );
    catalog.close();
  });

  it('keeps one row per backup and site, and lists unpublished jobs only until published', () => {
    const catalog = SqliteCatalog.open(freshPath());
    assert.equal(catalog.insertBackup(backup('B1', 'a')), true);
    assert.equal(catalog.insertBackup(backup('B1', 'a', { sizeBytes: 5 })), false);
    assert.equal(catalog.insertBackup(backup('B1', 'b')), true);
    assert.deepEqual(catalog.getBackupCopies('B1').map((b) => `${b.site}:${b.sizeBytes}`), ['a:1024', 'b:1024']);
    catalog.insertJob(job('J1'));
    assert.deepEqual(catalog.listUnpublishedJobs().map((j) => j.id), ['J1']);
    catalog.markJobPublished('J1', '2026-01-01T00:00:00.000Z');
    assert.deepEqual(catalog.listUnpublishedJobs(), []);
    catalog.close();
  });

  it('rolls a transaction back as a whole', () => {
    const catalog = SqliteCatalog.open(freshPath());
    assert.throws(() =>
      catalog.transaction(() => {
        catalog.recordEvent('E1', '2026-01-01T00:00:00.000Z');
        throw new Error('boom');
      }),
    );
    assert.equal(catalog.recordEvent('E1', '2026-01-01T00:00:00.000Z'), true);
    catalog.close();
  });

  it('upgrades a catalog made by the first schema version, keeping its rows', () => {
    const path = freshPath();
    const old = new Database(path);
    old.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const first = migrations.find((m) => m.version === 1);
    assert.ok(first);
    old.exec(first.sql);
    old.prepare('INSERT INTO schema_version (version, applied_at) VALUES (1, ?)').run('2026-01-01T00:00:00.000Z');
    old
      .prepare(
        `INSERT INTO backups (backup_id, site, vm, created_at, mode, parent, job_id, size_bytes, disks, verified_at, state)
         VALUES ('B1', 'a', 'vm1', '2026-01-01T00:00:00.000Z', 'full', NULL, 'j1', 10, '[]', '2026-01-02T00:00:00.000Z', 'damaged')`,
      )
      .run();
    old.close();

    const catalog = SqliteCatalog.open(path);
    assert.equal(catalog.schemaVersion(), migrations.at(-1)?.version);
    assert.deepEqual(catalog.getBackupCopy('B1', 'a'), {
      ...backup('B1', 'a', { sizeBytes: 10, disks: [], verifiedAt: '2026-01-02T00:00:00.000Z', state: 'damaged' }),
    });
    catalog.updateBackup('B1', 'a', { lockedUntil: '2027-01-01T00:00:00.000Z', state: 'ok', stateAt: '2026-01-03T00:00:00.000Z' });
    assert.equal(catalog.listBackups({})[0]?.lockedUntil, '2027-01-01T00:00:00.000Z');
    catalog.close();
    const reopened = SqliteCatalog.open(path);
    assert.equal(reopened.getBackupCopy('B1', 'a')?.state, 'ok', 'a reopen runs no migration again');
    reopened.close();
  });

  it('keeps a pruned copy for history but leaves it out of every lookup of present copies', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertBackup(backup('B1', 'a', { createdAt: '2026-01-01T00:00:00.000Z' }));
    catalog.insertBackup(backup('B2', 'a', { createdAt: '2026-01-02T00:00:00.000Z' }));
    catalog.insertBackup(backup('B2', 'b', { createdAt: '2026-01-02T00:00:00.000Z' }));
    catalog.updateBackup('B2', 'a', { prunedAt: '2026-02-01T00:00:00.000Z' });
    assert.deepEqual(catalog.listBackups({}).map((b) => `${b.backupId}@${b.site}`), ['B2@b', 'B1@a']);
    assert.deepEqual(catalog.listBackups({ site: 'a' }).map((b) => b.backupId), ['B1']);
    assert.deepEqual(catalog.getBackupCopies('B2').map((b) => b.site), ['b']);
    assert.equal(catalog.latestBackup('vm1')?.site, 'b');
    assert.equal(catalog.getBackupCopy('B2', 'a')?.prunedAt, '2026-02-01T00:00:00.000Z');
    catalog.updateBackup('B2', 'b', { prunedAt: '2026-02-01T00:00:00.000Z' });
    assert.equal(catalog.latestBackup('vm1')?.backupId, 'B1');
    catalog.updateBackup('B9', 'a', { prunedAt: '2026-02-01T00:00:00.000Z' });
    assert.equal(catalog.getBackupCopy('B9', 'a'), undefined, 'no row, no change');
    catalog.close();
  });
});
