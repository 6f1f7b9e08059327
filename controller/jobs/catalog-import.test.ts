import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { AppError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { Catalog } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { CatalogImporter, type StorageListing, type StorageReader, type StoredBackup } from './catalog-import.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-catalog-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(dir, `catalog-${++n}.db`);

const stored = (backupId: string, over: Partial<StoredBackup> = {}): StoredBackup => ({
  backupId,
  vm: 'vm1',
  createdAt: '2026-01-01T10:00:00.000Z',
  mode: 'full',
  parentBackupId: '',
  jobId: `J-${backupId}`,
  disks: [
    { name: 'disk0', sizeBytes: 1024 },
    { name: 'disk1', sizeBytes: 2048 },
  ],
  verifiedAt: '',
  lockedUntil: '',
  damage: '',
  ...over,
});

/** A storage per address, as fixed listings; records the addresses asked. */
class FakeStorages implements StorageReader {
  readonly asked: string[] = [];
  constructor(private readonly byAddress: Record<string, StorageListing>) {}
  list(address: string): Promise<StorageListing> {
    this.asked.push(address);
    const listing = this.byAddress[address];
    return listing ? Promise.resolve(listing) : Promise.reject(new AppError('FAILED_PRECONDITION', `cannot reach ${address}`));
  }
}

const setup = (listings: Record<string, StorageListing>, path = dbPath()) => {
  const catalog = SqliteCatalog.open(path);
  const clock = new ManualClock(Date.UTC(2026, 0, 2));
  const storages = new FakeStorages(listings);
  const importer = new CatalogImporter({ catalog, storages, clock, log: silentLogger() });
  return { catalog, clock, storages, importer, path };
};

describe('catalog import', () => {
  it('records every backup the storage holds, with its marks; a second import adds nothing; the rows are in the file', async () => {
    const listing: StorageListing = {
      site: 'b',
      backups: [
        stored('B1', { verifiedAt: '2026-01-01T12:00:00Z', lockedUntil: '2027-01-01T00:00:00.000Z' }),
        stored('B2', { createdAt: '2026-01-01T11:00:00.000Z', mode: 'incremental', parentBackupId: 'B1', damage: 'chunk ab12… missing' }),
      ],
    };
    const { catalog, importer, path } = setup({ 'st-b:7101': listing });
    const first = await importer.importFrom({ storageAddress: 'st-b:7101' });
    assert.deepEqual(first, {
      site: 'b',
      storageAddress: 'st-b:7101',
      found: 2,
      added: 2,
      alreadyKnown: 0,
      restored: 0,
      updated: 0,
      notAtStorage: 0,
      skipped: [],
    });
    const second = await importer.importFrom({ storageAddress: 'st-b:7101', site: 'b' });
    assert.deepEqual({ ...second, skipped: second.skipped.length }, { ...first, added: 0, alreadyKnown: 2, skipped: 0 });
    catalog.close();

    const reopened = SqliteCatalog.open(path);
    try {
      const b1 = reopened.getBackupCopy('B1', 'b');
      assert.deepEqual(b1, {
        backupId: 'B1',
        site: 'b',
        vm: 'vm1',
        createdAt: '2026-01-01T10:00:00.000Z',
        mode: 'full',
        parentBackupId: null,
        jobId: 'J-B1',
        sizeBytes: 3072,
        disks: [
          { name: 'disk0', sizeBytes: 1024 },
          { name: 'disk1', sizeBytes: 2048 },
        ],
        verifiedAt: '2026-01-01T12:00:00.000Z',
        state: 'ok',
        stateAt: '2026-01-01T12:00:00.000Z',
        lockedUntil: '2027-01-01T00:00:00.000Z',
        prunedAt: null,
        seenAt: '2026-01-02T00:00:00.000Z',
      });
      const b2 = reopened.getBackupCopy('B2', 'b');
      assert.equal(b2?.parentBackupId, 'B1');
      assert.equal(b2?.mode, 'incremental');
      assert.equal(b2?.state, 'damaged', 'damage the storage knows of is recorded');
      assert.equal(reopened.latestBackup('vm1')?.backupId, 'B2');
      assert.deepEqual(reopened.listBackups({}).map((b) => `${b.backupId}@${b.site}`), ['B2@b', 'B1@b']);
    } finally {
      reopened.close();
    }
  });

  it('brings back a pruned copy the storage holds, moves marks forward only, and counts copies the storage lacks without removing them', async () => {
    const listing: StorageListing = {
      site: 'a',
      backups: [
        stored('P1', { verifiedAt: '2026-01-01T13:00:00.000Z' }),
        stored('K1', { verifiedAt: '2026-01-01T13:00:00.000Z', lockedUntil: '2026-06-01T00:00:00.000Z' }),
        stored('K2', { verifiedAt: '2026-01-01T09:00:00.000Z', lockedUntil: '2026-02-01T00:00:00.000Z' }),
      ],
    };
    const { catalog, importer } = setup({ 'st-a:1': listing });
    const row = (backupId: string, over: Partial<Parameters<Catalog['insertBackup']>[0]> = {}) => ({
      backupId,
      site: 'a',
      vm: 'vm1',
      createdAt: '2026-01-01T10:00:00.000Z',
      mode: 'full' as const,
      parentBackupId: null,
      jobId: `J-${backupId}`,
      sizeBytes: 3072,
      disks: [
        { name: 'disk0', sizeBytes: 1024 },
        { name: 'disk1', sizeBytes: 2048 },
      ],
      verifiedAt: '2026-01-01T11:00:00.000Z',
      state: 'ok' as const,
      stateAt: null,
      lockedUntil: '2026-03-01T00:00:00.000Z',
      prunedAt: null,
      seenAt: null,
      ...over,
    });
    catalog.insertBackup(row('P1', { prunedAt: '2026-01-01T20:00:00.000Z', lockedUntil: null }));
    catalog.insertBackup(row('K1'));
    catalog.insertBackup(row('K2'));
    catalog.insertBackup(row('GONE'));
    const report = await importer.importFrom({ storageAddress: 'st-a:1', site: 'a' });
    assert.deepEqual(report, {
      site: 'a',
      storageAddress: 'st-a:1',
      found: 3,
      added: 0,
      alreadyKnown: 2,
      restored: 1,
      updated: 1,
      notAtStorage: 1,
      skipped: [],
    });
    const p1 = catalog.getBackupCopy('P1', 'a');
    assert.equal(p1?.prunedAt, null);
    assert.equal(p1?.seenAt, '2026-01-02T00:00:00.000Z');
    assert.equal(p1?.verifiedAt, '2026-01-01T13:00:00.000Z');
    const k1 = catalog.getBackupCopy('K1', 'a');
    assert.equal(k1?.verifiedAt, '2026-01-01T13:00:00.000Z', 'a newer verify moves forward');
    assert.equal(k1?.lockedUntil, '2026-06-01T00:00:00.000Z', 'a longer lock moves forward');
    const k2 = catalog.getBackupCopy('K2', 'a');
    assert.equal(k2?.verifiedAt, '2026-01-01T11:00:00.000Z', 'an older verify changes nothing');
    assert.equal(k2?.lockedUntil, '2026-03-01T00:00:00.000Z', 'a shorter lock changes nothing');
    assert.equal(catalog.getBackupCopy('GONE', 'a')?.prunedAt, null, 'a copy the storage lacks is left as it is');
    catalog.close();
  });

  it('finds a site’s storage from its heartbeats; refuses an offline one, an unknown site, a storage of another site, and no target', async () => {
    const { catalog, importer, storages } = setup({ 'st-b:2': { site: 'b', backups: [stored('B1')] }, 'st-a:2': { site: 'a', backups: [] } });
    await assert.rejects(importer.importFrom({ site: 'b' }), NotFoundError);
    catalog.upsertWorker({ site: 'b', id: 'storage', kind: 'storage', state: 'online', lastSeenAt: '2026-01-02T00:00:00.000Z', address: 'st-b:2', version: '1' });
    catalog.upsertWorker({ site: 'b', id: 'agent-9', kind: 'agent', state: 'online', lastSeenAt: '2026-01-02T00:00:00.000Z', address: null, version: '1' });
    const report = await importer.importFrom({ site: 'b' });
    assert.equal(report.storageAddress, 'st-b:2');
    assert.equal(report.added, 1);
    assert.deepEqual(storages.asked, ['st-b:2']);

    await assert.rejects(importer.importFrom({ storageAddress: 'st-a:2', site: 'b' }), (err: unknown) => {
      assert.ok(err instanceof PreconditionError);
      assert.match(err.message, /keeps the datastore of site a, not b/);
      return true;
    });
    catalog.upsertWorker({ site: 'b', id: 'storage', kind: 'storage', state: 'offline', lastSeenAt: '2026-01-02T00:00:00.000Z', address: 'st-b:2', version: '1' });
    await assert.rejects(importer.importFrom({ site: 'b' }), /storage of site b is offline/);
    await assert.rejects(importer.importFrom({}), ValidationError);
    assert.equal(catalog.listBackups({ site: 'a' }).length, 0, 'a refused import records nothing');
    catalog.close();
  });

  it('skips listed backups it cannot record, naming the field, and records the rest; an unreadable lock is recorded unlocked', async () => {
    const { catalog, importer } = setup({
      'st:3': {
        site: 'a',
        backups: [
          stored('OK1', { lockedUntil: 'damaged lock file: locked' }),
          stored('BAD1', { createdAt: 'yesterday' }),
          stored('BAD2', { mode: 'differential' }),
          stored('BAD3', { disks: [] }),
        ],
      },
    });
    const report = await importer.importFrom({ storageAddress: 'st:3' });
    assert.equal(report.added, 1);
    assert.deepEqual(
      report.skipped.map((s) => `${s.backupId} ${s.reason}`),
      ['BAD1 createdAt: must be an ISO-8601 time', 'BAD2 mode: must be full or incremental', 'BAD3 disks: must list at least one disk'],
    );
    assert.equal(catalog.getBackupCopy('OK1', 'a')?.lockedUntil, null);
    catalog.close();
  });

  it('writes all or nothing: a failure part-way leaves the catalog as it was, and a rerun records everything', async () => {
    const path = dbPath();
    const listing = { site: 'a', backups: [stored('A1'), stored('A2'), stored('A3')] };
    const real = SqliteCatalog.open(path);
    let inserts = 0;
    const failing: Catalog = Object.assign(Object.create(real) as SqliteCatalog, {
      insertBackup: (row: Parameters<Catalog['insertBackup']>[0]) => {
        if (++inserts === 2) throw new Error('disk full');
        return real.insertBackup(row);
      },
    });
    const clock = new ManualClock();
    const broken = new CatalogImporter({ catalog: failing, storages: new FakeStorages({ 'st:4': listing }), clock, log: silentLogger() });
    await assert.rejects(broken.importFrom({ storageAddress: 'st:4' }), /disk full/);
    assert.equal(real.listBackups({}).length, 0, 'the first insert was rolled back with the rest');
    real.close();

    const { catalog, importer } = setup({ 'st:4': listing }, path);
    assert.equal((await importer.importFrom({ storageAddress: 'st:4' })).added, 3);
    assert.equal(catalog.listBackups({}).length, 3);
    catalog.close();
  });
});
