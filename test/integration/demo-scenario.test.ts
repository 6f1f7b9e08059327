/**
 * The demo's scenario through the real CLI, against real processes: nats-server, controller,
 * storages for sites a and b, an agent. Small disks (64 MiB and 16 MiB) keep it quick.
 */
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupResult, RestoreResult, SyncResult, VerifyResult } from '../../shared/messages/results.js';
import { mutateDemoDisk } from '../../controller/cli/up/demo-disk.js';
import { runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { allocatedBytes, chunkFiles, fileSha256 } from '../helpers/files.js';

describe('backup, incremental, sync, damage, repair and restore through the CLI', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  const vmDir = () => join(ctx.deployment.dataDir, 'vms', 'vm1');

  before(async () => {
    ctx = await startTestDeployment([{ name: 'vm1', disks: [{ name: 'disk0', sizeMib: 64 }, { name: 'disk1', sizeMib: 16 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('runs the whole story', async () => {
    const { env } = ctx;
    const vms = await runCliJson<{ name: string }[]>(['vms'], env);
    assert.deepEqual(vms.map((v) => v.name), ['vm1']);

    const full = await runJob(BackupResult, ['backup', 'vm1'], env);
    assert.equal(full.backup.mode, 'full');
    assert.ok(full.chunksZero > 0, 'zero chunks are recognised');
    assert.ok(full.chunksSent > 0);
    assert.ok(full.chunksSent < full.chunksTotal - full.chunksZero + 1);

    const changed = await mutateDemoDisk(join(vmDir(), 'disk0.img'), 0.02);
    const inc = await runJob(BackupResult, ['backup', 'vm1'], env);
    assert.equal(inc.backup.mode, 'incremental');
    assert.equal(inc.backup.parentBackupId, full.backup.backupId);
    assert.ok(inc.chunksSent <= changed.length * 2, `incremental sent ${inc.chunksSent} chunks for ${changed.length} writes`);
    assert.ok(inc.chunksSent > 0);
    const sums = {
      disk0: await fileSha256(join(vmDir(), 'disk0.img')),
      disk1: await fileSha256(join(vmDir(), 'disk1.img')),
    };

    const sync = await runJob(SyncResult, ['sync'], env);
    assert.equal(sync.copied.length, 2);
    assert.ok(sync.chunksCopied > 0);
    const resync = await runJob(SyncResult, ['sync'], env);
    assert.equal(resync.copied.length, 0);
    assert.equal(resync.chunksCopied, 0, 'a second sync moves nothing');

    const atB = await runCliJson<{ backupId: string }[]>(['backups', '--site', 'b'], env);
    assert.deepEqual(atB.map((b) => b.backupId).sort(), [full.backup.backupId, inc.backup.backupId].sort());

    const files = chunkFiles(join(ctx.deployment.dataDir, 'storage-a', 'datastore'));
    const damaged = [files[1], files[Math.floor(files.length / 2)], files[files.length - 2]].map((f) => f!);
    const flipped = readFileSync(damaged[0]!);
    flipped[40] = (flipped[40] ?? 0) ^ 1;
    writeFileSync(damaged[0]!, flipped);
    truncateSync(damaged[1]!, 100);
    unlinkSync(damaged[2]!);

    const repair = await runJob(VerifyResult, ['verify', '--site', 'a', '--repair'], env);
    assert.equal(repair.repaired, 3);
    assert.equal(repair.unrepaired, 0);
    const named = new Set(repair.chunks.map((c) => {
      assert.equal(c.outcome, 'repaired');
      assert.equal(c.peer, 'b');
      return c.digest;
    }));
    for (const f of damaged) assert.ok(named.has(f.slice(-64)), `the report names ${f.slice(-64)}`);

    const again = await runJob(VerifyResult, ['verify', '--site', 'a', '--force'], env);
    assert.equal(again.chunks.length, 0);
    assert.equal(again.damagedFiles.length, 0);

    for (const site of ['b', 'a']) {
      const target = join(ctx.deployment.dataDir, `restore-${site}`);
      const restored = await runJob(RestoreResult, ['restore', inc.backup.backupId, '--to', target, '--site', site], env);
      assert.equal(restored.site, site);
      for (const disk of ['disk0', 'disk1'] as const) {
        const path = join(target, `${disk}.img`);
        assert.equal(await fileSha256(path), sums[disk], `${disk} restored from ${site} is identical`);
      }
      assert.ok(allocatedBytes(join(target, 'disk0.img')) < 64 * 1024 * 1024, 'restored disk is sparse');
    }
  });
});
