/**
 * Restore into QEMU and start: a real Linux guest (scripts/guest-vm, booted under TCG) is backed
 * up live by the qemu driver, restored as a qcow2 image with `start`, and the restored VM boots
 * from it: its boot marker prints the id stored on the backed-up disk, not one given to it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { InlineChunkProcessor } from '../../node-agent/adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../../node-agent/adapters/memory-block-store.js';
import { qcow2Targets } from '../../node-agent/adapters/qcow2-nbd-target.js';
import { QemuVmLauncher } from '../../node-agent/adapters/qemu-vm-launcher.js';
import { runBackup } from '../../node-agent/backup/backup-job.js';
import { QemuDriver } from '../../node-agent/hypervisors/qemu/qemu-driver.js';
import { rawFileTargets } from '../../node-agent/restore/raw-file-target.js';
import { runRestore } from '../../node-agent/restore/restore-job.js';
import { ensureGuestImage, GuestVm } from '../../node-agent/testing/guest-vm.js';
import { waitFor } from '../helpers/wait-for.js';

const log = silentLogger();

describe('restore into QEMU and start the VM (real guest under TCG)', () => {
  let dir: string;
  let source: GuestVm | undefined;
  let restoredPid: number | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-restore-start-'));
  });
  after(async () => {
    if (restoredPid !== undefined) {
      try {
        process.kill(restoredPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await source?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('backs up a running guest, restores it as qcow2 and boots the copy', async () => {
    const image = await ensureGuestImage();
    const id = `src-${Date.now().toString(36)}`;
    source = await GuestVm.start({ dir, id });
    const booted = await source.waitForBoot(90_000);
    assert.equal(booted.id, id);

    const append = 'console=ttyS0 root=/dev/vda rw quiet loglevel=3 panic=-1 8250.nr_uarts=1 cryptomgr.notests acpi=off';
    const driver = new QemuDriver(
      {
        kind: 'qemu',
        workDir: join(dir, 'work'),
        vms: [{ name: 'guest', qmpSocket: source.qmpSocketPath, definition: { cpus: 1, memoryMiB: 128, machine: 'pc', kernel: image.kernelPath, initrd: image.initrdPath, append } }],
      },
      log,
    );
    const clock = new ManualClock();
    const store = new MemoryBlockStore(clock, 'site-a', 256 * 1024);
    const deps = { store, log, clock, keys: null, openProcessor: () => new InlineChunkProcessor(null), progress: () => undefined };
    const backup = await runBackup({ jobId: 'j1', attempt: 1, vm: 'guest', mode: 'full' }, { ...deps, driver });
    assert.ok(backup.bytesRead > 0);

    const target = join(dir, 'restored');
    const restored = await runRestore(
      { backupId: backup.backup.backupId, vm: 'guest', targetDir: target, format: 'qcow2', start: true },
      { ...deps, diskTargets: qcow2Targets(rawFileTargets), vmLauncher: new QemuVmLauncher() },
    );
    assert.ok(restored.started, 'the VM was started');
    restoredPid = restored.started.pid;
    const vmFile = JSON.parse(readFileSync(join(target, 'vm.json'), 'utf8')) as { hypervisor: string; definition: { kernel: string } };
    assert.equal(vmFile.hypervisor, 'qemu');
    assert.equal(vmFile.definition.kernel, image.kernelPath);
    // The restored guest was given no id: the marker prints the one on the backed-up disk.
    const marker = await waitFor(
      'the restored VM to boot',
      () => {
        const text = (() => {
          try {
            return readFileSync(restored.started?.consoleLog ?? '', 'utf8');
          } catch {
            return '';
          }
        })();
        if (text.includes('GUESTVM-BOOT-FAIL')) throw new Error(`the restored VM failed to boot:\n${text}`);
        return /GUESTVM-BOOT-OK id=(\S+)/.exec(text)?.[1];
      },
      120_000,
      200,
    );
    assert.equal(marker, id, 'the restored disk is the source disk');
  });
});
