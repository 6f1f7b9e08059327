/**
 * The QEMU demo VM of `bulwark up` through the real CLI and daemons (nats-server, controller,
 * storages, an agent with the qemu driver, a qemu-storage-daemon): a full backup reads only the
 * allocated data, an incremental taken while the guest writes reads only dirty extents and
 * restores as one instant of the disk, byte for byte, from both sites.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeManifest } from '../../shared/format/manifest.js';
import { BackupResult, RestoreResult, SyncResult } from '../../shared/messages/results.js';
import { runJob, startTestDeployment } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { BackgroundWriter, changeThroughNbd, GUEST_WRITE_BYTES, pointInTimeCut } from '../helpers/guest-writer.js';
import { readFile } from 'node:fs/promises';

const run = promisify(execFile);
const MiB = 1024 * 1024;

describe('a QEMU VM backed up agentlessly through the CLI (bulwark up, qemu driver)', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  const vmDir = () => join(ctx.deployment.dataDir, 'vms', 'qvm');
  const manifestOf = async (backupId: string) =>
    decodeManifest(await readFile(join(ctx.deployment.dataDir, 'storage-a', 'datastore', 'backups', 'qvm', backupId, 'manifest.json')));

  before(async () => {
    ctx = await startTestDeployment([{ name: 'qvm', disks: [{ name: 'disk0', sizeMib: 64 }] }], 'qemu');
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('backs up the point-in-time state while the guest writes, reading only what changed', async () => {
    const { env } = ctx;
    const nbdSocket = join(vmDir(), 'nbd.sock');
    const full = await runJob(BackupResult, ['backup', 'qvm'], env);
    assert.equal(full.backup.mode, 'full');
    assert.ok(full.bytesRead < 64 * MiB, `a full backup reads only allocated data (${full.bytesRead} bytes)`);
    const fullManifest = await manifestOf(full.backup.backupId);
    assert.equal(fullManifest.changeTrackingNote, 'no dirty bitmap yet');
    assert.match(fullManifest.checkpoint ?? '', /^[0-9A-Z]{26}$/);

    const changed = await changeThroughNbd(nbdSocket, 'disk0', 0.01, 'it-change');
    const before = join(ctx.deployment.dataDir, 'before.raw');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', '-S', '4k', `nbd+unix:///disk0?socket=${nbdSocket}`, before]);
    const writer = await BackgroundWriter.start(nbdSocket, 'disk0', 'it-live', 10);
    while (writer.done < 5) await sleep(5);
    const inc = await runJob(BackupResult, ['backup', 'qvm'], env);
    const writes = await writer.stop();
    assert.equal(inc.backup.mode, 'incremental');
    const incManifest = await manifestOf(inc.backup.backupId);
    assert.equal(incManifest.changeTracking, 'dirty-bitmap');
    assert.equal(incManifest.parentBackupId, full.backup.backupId);
    assert.deepEqual(incManifest.vmDefinition, { hypervisor: 'qemu', definition: { cpus: 1, memoryMiB: 512 } }, 'the VM definition is in the manifest');
    const touched = new Set([...changed, ...writes].map((w) => Math.floor(w.offset / MiB)));
    assert.ok(inc.bytesRead <= touched.size * MiB, `reads at most the chunks the guest touched (${inc.bytesRead} bytes, ${touched.size} chunks touched)`);
    assert.ok(inc.bytesRead >= Math.ceil((changed.length * GUEST_WRITE_BYTES) / MiB), 'and at least what changed before it');

    await runJob(SyncResult, ['sync'], env);
    for (const site of ['a', 'b']) {
      const target = join(ctx.deployment.dataDir, `restore-${site}`);
      await runJob(RestoreResult, ['restore', inc.backup.backupId, '--to', target, '--site', site], env);
      const expected = join(ctx.deployment.dataDir, `expected-${site}.raw`);
      const cut = await pointInTimeCut(join(target, 'disk0.img'), before, writes, expected);
      assert.ok(cut >= 5 && cut <= writes.length, `the instant falls among the guest's writes (${cut} of ${writes.length})`);
      assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(expected), `site ${site}: byte for byte the disk at the backup's instant`);
      const vmFile = JSON.parse(await readFile(join(target, 'vm.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(
        { vm: vmFile.vm, hypervisor: vmFile.hypervisor, definition: vmFile.definition, disks: vmFile.disks },
        { vm: 'qvm', hypervisor: 'qemu', definition: { cpus: 1, memoryMiB: 512 }, disks: [{ name: 'disk0', file: 'disk0.img', format: 'raw', sizeBytes: 64 * MiB }] },
        'vm.json beside the disks rebuilds the VM',
      );
    }
  });
});
