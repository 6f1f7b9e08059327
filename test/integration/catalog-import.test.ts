/**
 * Catalog rebuild with real processes: the embedded deployment backs a VM up twice (full, then
 * incremental), syncs to site b, verifies and locks; then the controller is stopped, its SQLite
 * catalog (with its WAL files) deleted, and the controller started again on an empty one.
 * `bulwark catalog import` at both sites brings every copy back as it was listed before, a second
 * import adds nothing, an imported backup restores from b byte for byte, and a new backup of the
 * VM is an incremental one on the newest imported backup, restored byte for byte too.
 */
import assert from 'node:assert/strict';
import { existsSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupResult, RestoreResult, SyncResult, VerifyResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

interface CatalogBackupView {
  backupId: string;
  vm: string;
  site: string;
  createdAt: string;
  mode: string;
  parentBackupId: string;
  sizeBytes: number;
  diskCount: number;
  jobId: string;
  verifiedAt: string;
  state: string;
  lockedUntil: string;
}

interface ImportView {
  site: string;
  storageAddress: string;
  found: number;
  added: number;
  alreadyKnown: number;
  restored: number;
  updated: number;
  notAtStorage: number;
  skipped: unknown[];
}

const byCopy = (a: CatalogBackupView, b: CatalogBackupView) => `${a.site}/${a.backupId}`.localeCompare(`${b.site}/${b.backupId}`);

/** Overwrites `length` bytes of a file at `offset` with a pattern made of `seed`. */
function scribble(path: string, offset: number, length: number, seed: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(length, seed), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

describe('catalog rebuild after the controller database is lost', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 24 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('brings back every copy at both sites from the storages, and backups and restores go on', async () => {
    const { deployment, env } = ctx;
    const disk = join(deployment.dataDir, 'vms', 'vm1', 'disk0.img');
    const first = await runJob(BackupResult, ['backup', 'vm1', '--mode', 'full'], env);
    scribble(disk, 5 * 1024 * 1024, 256 * 1024, 0x5a);
    const secondSource = await fileSha256(disk);
    const second = await runJob(BackupResult, ['backup', 'vm1'], env);
    assert.equal(second.backup.mode, 'incremental');
    assert.equal(second.backup.parentBackupId, first.backup.backupId);
    const sync = await runJob(SyncResult, ['sync'], env);
    assert.equal(sync.copied.length, 2);
    await runJob(VerifyResult, ['verify', '--site', 'a'], env);
    const lock = await runCli(['lock', first.backup.backupId, '--until', '2100-01-01', '--wait', '--json'], env);
    assert.equal(lock.code, 0, lock.stderr);

    const before = (await runCliJson<CatalogBackupView[]>(['backups'], env)).sort(byCopy);
    assert.equal(before.length, 4, 'two backups, each at a and b');
    assert.ok(before.every((b) => b.lockedUntil === '' || b.backupId === first.backup.backupId));
    assert.ok(before.some((b) => b.site === 'a' && b.verifiedAt !== ''), 'a verified copy, to see its verify time come back');
    assert.equal(before.filter((b) => b.lockedUntil !== '').length, 2, 'the first backup is locked at both sites');

    // Lose the controller's database: stop it, delete the SQLite file and its WAL, start it again.
    const controller = deployment.processes.get('controller');
    assert.ok(controller);
    await controller.stop();
    const db = join(deployment.dataDir, 'controller', 'catalog.db');
    assert.ok(existsSync(db));
    for (const file of [db, `${db}-wal`, `${db}-shm`]) rmSync(file, { force: true });
    await controller.start();
    assert.deepEqual(await runCliJson<CatalogBackupView[]>(['backups'], env), [], 'the new catalog is empty');

    // The storages are known again from their heartbeats; --site finds each one's address.
    await waitFor('both storages online again', async () => {
      const workers = await runCliJson<{ site: string; kind: string; state: string }[]>(['workers'], env);
      return workers.filter((w) => w.kind === 'storage' && w.state === 'online').length === 2 ? true : undefined;
    }, 30_000, 200);
    const importA = await runCliJson<ImportView>(['catalog', 'import', '--site', 'a'], env);
    assert.deepEqual(
      { ...importA, skipped: importA.skipped.length },
      { site: 'a', storageAddress: deployment.storages.a, found: 2, added: 2, alreadyKnown: 0, restored: 0, updated: 0, notAtStorage: 0, skipped: 0 },
    );
    const importB = await runCliJson<ImportView>(['catalog', 'import', '--site', 'b'], env);
    assert.equal(importB.added, 2);

    const rebuilt = (await runCliJson<CatalogBackupView[]>(['backups'], env)).sort(byCopy);
    assert.deepEqual(rebuilt, before, 'every copy is back as it was: ids, sites, VM, times, mode, parent, sizes, job, verify, lock');

    // Idempotent: again, by address this time; a storage of another site is refused by name.
    const again = await runCliJson<ImportView>(['catalog', 'import', '--storage', deployment.storages.b ?? ''], env);
    assert.deepEqual({ site: again.site, found: again.found, added: again.added, alreadyKnown: again.alreadyKnown, updated: again.updated }, {
      site: 'b',
      found: 2,
      added: 0,
      alreadyKnown: 2,
      updated: 0,
    });
    const wrong = await runCli(['catalog', 'import', '--storage', deployment.storages.a ?? '', '--site', 'b'], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /keeps the datastore of site a, not b/);
    const unreachable = await runCli(['catalog', 'import', '--storage', '127.0.0.1:1'], env);
    assert.equal(unreachable.code, 1, 'an unreachable storage is not an unreachable controller (3)');
    assert.match(unreachable.stderr, /cannot reach the storage at 127\.0\.0\.1:1/);
    const usage = await runCli(['catalog', 'import'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give --storage <host:port> or --site <site>/);
    assert.deepEqual((await runCliJson<CatalogBackupView[]>(['backups'], env)).sort(byCopy), before);

    // Restore an imported backup from the replica, byte for byte.
    const fromB = join(deployment.dataDir, 'restore-b');
    await runJob(RestoreResult, ['restore', second.backup.backupId, '--to', fromB, '--site', 'b', '--worker', 'agent-1'], env);
    assert.equal(await fileSha256(join(fromB, 'disk0.img')), secondSource, 'restored from b byte for byte');

    // The controller, started on an empty catalog, asked the running agent for its inventory
    // (no agent restart): back up on the rebuilt catalog.
    await waitFor('vm1 in the inventory again', async () => {
      const vms = await runCliJson<{ name: string }[]>(['vms'], env);
      return vms.some((v) => v.name === 'vm1') ? true : undefined;
    }, 30_000, 200);
    scribble(disk, 9 * 1024 * 1024, 128 * 1024, 0xa5);
    const thirdSource = await fileSha256(disk);
    const third = await runJob(BackupResult, ['backup', 'vm1'], env);
    assert.equal(third.backup.mode, 'incremental');
    assert.equal(third.backup.parentBackupId, second.backup.backupId, 'on the newest imported backup');
    const afterBackup = await runCliJson<CatalogBackupView[]>(['backups', '--vm', 'vm1', '--site', 'a'], env);
    assert.deepEqual(afterBackup.map((b) => b.backupId), [third.backup.backupId, second.backup.backupId, first.backup.backupId]);
    const fromA = join(deployment.dataDir, 'restore-a');
    await runJob(RestoreResult, ['restore', third.backup.backupId, '--to', fromA], env);
    assert.equal(await fileSha256(join(fromA, 'disk0.img')), thirdSource, 'the new backup restores byte for byte');
  });
});
