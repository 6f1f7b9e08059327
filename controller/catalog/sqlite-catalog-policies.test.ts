import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CorruptDataError, NotFoundError } from '../../shared/errors.js';
import { Policy } from '../../shared/messages/policy.js';
import { PolicyExistsError } from './catalog.js';
import { SqliteCatalog, migrations } from './sqlite-catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-catalog-policies-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `catalog-${++n}.db`);

const T1 = '2026-12-01T00:00:00.000Z';
const T2 = '2026-12-02T00:00:00.000Z';
const nightly = (over: Record<string, unknown> = {}) =>
  Policy.parse({ name: 'nightly', schedule: { cron: ['0 2 * * *'] }, selector: { tags: ['prod'] }, ...over });

describe('SqliteCatalog policies', () => {
  it('inserts, reads back with defaults filled, lists by name', () => {
    const catalog = SqliteCatalog.open(freshPath());
    const row = catalog.insertPolicy(nightly({ rpoMs: 86_400_000 }), T1);
    assert.deepEqual(row, { policy: nightly({ rpoMs: 86_400_000 }), createdAt: T1, updatedAt: T1 });
    catalog.insertPolicy(nightly({ name: 'a-first' }), T2);
    assert.deepEqual(catalog.getPolicy('nightly'), row);
    assert.equal(catalog.getPolicy('nightly')?.policy.retry.maxAttempts, 3);
    assert.deepEqual(
      catalog.listPolicies().map((r) => r.policy.name),
      ['a-first', 'nightly'],
    );
    assert.equal(catalog.getPolicy('missing'), undefined);
    catalog.close();
  });

  it('refuses a second policy of the same name with PolicyExistsError, keeping the first', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertPolicy(nightly(), T1);
    assert.throws(() => catalog.insertPolicy(nightly({ priority: 90 }), T2), (err: unknown) => {
      assert.ok(err instanceof PolicyExistsError);
      assert.equal(err.code, 'ALREADY_EXISTS');
      assert.match(err.message, /policy nightly already exists/);
      return true;
    });
    assert.equal(catalog.getPolicy('nightly')?.policy.priority, 50);
    catalog.close();
  });

  it('updates keep createdAt and move updatedAt; updating a missing policy is NotFound', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertPolicy(nightly(), T1);
    const updated = catalog.updatePolicy(nightly({ enabled: false }), T2);
    assert.equal(updated.createdAt, T1);
    assert.equal(updated.updatedAt, T2);
    assert.equal(catalog.getPolicy('nightly')?.policy.enabled, false);
    assert.throws(() => catalog.updatePolicy(nightly({ name: 'other' }), T2), NotFoundError);
    catalog.close();
  });

  it('deletes once', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.insertPolicy(nightly(), T1);
    assert.equal(catalog.deletePolicy('nightly'), true);
    assert.equal(catalog.deletePolicy('nightly'), false);
    assert.deepEqual(catalog.listPolicies(), []);
    catalog.close();
  });

  it('validates on write and on read (a hand-edited bad row is CorruptData naming it)', () => {
    const path = freshPath();
    const catalog = SqliteCatalog.open(path);
    assert.throws(() => catalog.insertPolicy({ ...nightly(), priority: 500 }, T1));
    catalog.close();
    const db = new Database(path);
    db.prepare('INSERT INTO policies (name, policy, created_at, updated_at) VALUES (?, ?, ?, ?)').run(
      'broken',
      JSON.stringify({ name: 'broken', schedule: { cron: ['not cron'] } }),
      T1,
      T1,
    );
    db.close();
    const reopened = SqliteCatalog.open(path);
    assert.throws(() => reopened.getPolicy('broken'), (err: unknown) => err instanceof CorruptDataError && /policies\.policy of broken/.test(err.message));
    reopened.close();
  });

  it('policies survive reopening the file', () => {
    const path = freshPath();
    const first = SqliteCatalog.open(path);
    first.insertPolicy(nightly(), T1);
    first.close();
    const second = SqliteCatalog.open(path);
    assert.equal(second.getPolicy('nightly')?.createdAt, T1);
    second.close();
  });
});

describe('SqliteCatalog VM tags', () => {
  it('stores tags from inventory, defaults to none, replaces them on the next upsert', () => {
    const catalog = SqliteCatalog.open(freshPath());
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [] });
    assert.deepEqual(catalog.getVm('vm1')?.tags, []);
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [], tags: ['prod', 'tier:db'] });
    assert.deepEqual(catalog.getVm('vm1')?.tags, ['prod', 'tier:db']);
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [], tags: [] });
    assert.deepEqual(catalog.listVms()[0]?.tags, []);
    assert.throws(() => catalog.upsertVm({ name: 'vm2', site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [], tags: ['bad tag'] }));
    catalog.close();
  });

  it('a catalog of version 3 migrates: its VMs get no tags, the policies table appears', () => {
    const path = freshPath();
    const db = new Database(path);
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of migrations.filter((m) => m.version <= 3)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, T1);
    }
    db.prepare('INSERT INTO vms (name, site, worker, hypervisor, disks) VALUES (?, ?, ?, ?, ?)').run('old', 'a', 'agent-1', 'files', '[]');
    db.close();
    const catalog = SqliteCatalog.open(path);
    assert.ok(catalog.schemaVersion() >= 5);
    assert.deepEqual(catalog.getVm('old')?.tags, []);
    assert.deepEqual(catalog.listPolicies(), []);
    catalog.close();
  });
});
