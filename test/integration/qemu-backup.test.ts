/**
 * The real backup job through the qemu driver: a qemu-storage-daemon VM with one 64 MiB qcow2
 * disk, the guest writing through a writable NBD export while the backup runs. The restore must
 * equal the disk at the instant the view opened (read before the backup started), not the live
 * disk; the next backup is a dirty-bitmap incremental that reads only the chunks written since.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InlineChunkProcessor } from '../../node-agent/adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../../node-agent/adapters/memory-block-store.js';
import { runBackup } from '../../node-agent/backup/backup-job.js';
import type { BackupView, HypervisorDriver } from '../../node-agent/hypervisors/hypervisor.js';
import { NbdClient } from '../../node-agent/hypervisors/qemu/nbd-client.js';
import { QemuDriver } from '../../node-agent/hypervisors/qemu/qemu-driver.js';
import { runRestore } from '../../node-agent/restore/restore-job.js';
import { seededBytes } from '../../node-agent/testing/disk-images.js';
import { QemuStorageDaemon } from '../../node-agent/testing/qemu-storage-daemon.js';
import { ManualClock } from '../../shared/clock.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const GRANULE = 64 * 1024;
/** Larger than a bitmap granule, so one dirty chunk may hold several dirty granules. */
const CHUNK = 256 * 1024;
const log = silentLogger();

/** Deterministic granule numbers in [0, count). */
function seededGranules(seed: number, n: number, count: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % count;
  });
}

/**
 * The driver with hooks: `onOpen` runs once the view is open and before the backup reads (the
 * guest writes there); bytes read through the view are counted.
 */
class ObservedDriver implements HypervisorDriver {
  readonly kind = 'qemu';
  bytesRead = 0;
  onOpen: (() => Promise<void>) | undefined;

  constructor(private readonly inner: QemuDriver) {}

  inventory() {
    return this.inner.inventory();
  }

  async openBackupView(vm: string): Promise<BackupView> {
    const view = await this.inner.openBackupView(vm);
    await this.onOpen?.();
    return {
      ...view,
      finish: (success) => view.finish(success),
      disks: view.disks.map((d) => {
        assert.ok('readInto' in d, 'the qemu driver reads into the caller buffers');
        return {
          ...d,
          read: (offset: number, length: number) => {
            this.bytesRead += length;
            return d.read(offset, length);
          },
          readInto: (target: Buffer, offset: number) => {
            this.bytesRead += target.length;
            return d.readInto ? d.readInto(target, offset) : Promise.reject(new Error('no readInto'));
          },
        };
      }),
    };
  }
}

describe('backup and restore through the qemu driver (qemu-storage-daemon, guest writing during the backup)', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;
  let live: NbdClient;
  let driver: ObservedDriver;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
  let seq = 0;

  const writeGranules = async (granules: readonly number[], seed: number) => {
    for (const [i, g] of granules.entries()) await live.write(g * GRANULE, seededBytes(seed + i, GRANULE));
  };

  const backup = async () => {
    clock.advance(1000);
    driver.bytesRead = 0;
    return runBackup(
      { jobId: `job-${++seq}`, attempt: 1, vm: 'vm', mode: 'auto' },
      { driver, store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
    );
  };

  const restored = async (backupId: string) => {
    const target = join(dir, `restore-${backupId}`);
    await runRestore(
      { backupId, vm: 'vm', targetDir: target },
      { store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
    );
    return readFile(join(target, 'disk0.img'));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-qemu-backup-'));
    daemon = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }], nbd: true });
    const socketPath = daemon.nbdSocketPath;
    assert.ok(socketPath);
    live = await NbdClient.connect({ socketPath }, 'disk0');
    const qemu = new QemuDriver(
      {
        kind: 'qemu',
        workDir: join(dir, 'work'),
        vms: [{ name: 'vm', qmpSocket: daemon.qmpSocketPath, nbdSocket: socketPath, definition: { cpus: 1, memoryMiB: 256 } }],
      },
      log,
    );
    driver = new ObservedDriver(qemu);
  });

  after(async () => {
    await live?.disconnect().catch(() => undefined);
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restores the instant the view opened, then an incremental reads only the chunks written since', async () => {
    // Data in 5 MiB at the start, and scattered granules.
    await live.write(0, seededBytes(1, 5 * MiB));
    const scattered = [...new Set(seededGranules(7, 40, DISK_BYTES / GRANULE))];
    await writeGranules(scattered, 100);
    const pointInTime = await live.read(0, DISK_BYTES);

    // The guest keeps writing once the view is open: some before the first read, the rest while the backup reads.
    const during = seededGranules(11, 48, DISK_BYTES / GRANULE);
    let writer: Promise<void> | undefined;
    driver.onOpen = async () => {
      await writeGranules(during.slice(0, 16), 1000);
      writer = writeGranules(during.slice(16), 2000);
    };
    const first = await backup();
    driver.onOpen = undefined;
    await writer;
    const firstManifest = decodeManifest(await store.getManifest(first.backup.backupId));
    assert.equal(firstManifest.mode, 'full');
    assert.equal(firstManifest.changeTrackingNote, 'no dirty bitmap yet');
    assert.ok(firstManifest.checkpoint);
    const allocatedChunks = new Set([...Array.from({ length: 5 * MiB / GRANULE }, (_, g) => g), ...scattered].map((g) => Math.floor((g * GRANULE) / CHUNK)));
    assert.equal(first.bytesRead, allocatedChunks.size * CHUNK, 'a full backup reads only the allocated chunks');
    assert.equal(driver.bytesRead, first.bytesRead);

    const firstRestore = await restored(first.backup.backupId);
    assert.ok(firstRestore.equals(pointInTime), 'the restore is the disk at the instant of the view');
    assert.ok(!firstRestore.equals(await live.read(0, DISK_BYTES)), 'the live disk moved on');

    // Incremental: the changes since the first view's checkpoint, i.e. the writes during the first backup and after it.
    const later = seededGranules(23, 10, DISK_BYTES / GRANULE);
    await writeGranules(later, 3000);
    const secondInstant = await live.read(0, DISK_BYTES);
    const second = await backup();
    const secondManifest = decodeManifest(await store.getManifest(second.backup.backupId));
    assert.equal(secondManifest.mode, 'incremental');
    assert.equal(secondManifest.changeTracking, 'dirty-bitmap');
    assert.equal(secondManifest.changeTrackingNote, null);
    assert.equal(secondManifest.parentBackupId, first.backup.backupId);
    const dirtyChunks = new Set([...during, ...later].map((g) => Math.floor((g * GRANULE) / CHUNK)));
    assert.equal(second.bytesRead, dirtyChunks.size * CHUNK, 'only the dirty chunks are read');
    assert.equal(driver.bytesRead, second.bytesRead);
    assert.ok((await restored(second.backup.backupId)).equals(secondInstant), 'the incremental restores byte for byte');
  });
});
