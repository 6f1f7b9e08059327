/**
 * The libvirt driver against a real libvirtd (started here as a child process) and a paused TCG
 * domain with two qcow2 virtio disks; the guest's writes are qemu-io through the HMP monitor.
 * The test keeps a model of each disk (initial image + every write) and checks the views against it.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { NotFoundError } from '../../../shared/errors.js';
import { decodeManifest } from '../../../shared/format/manifest.js';
import { silentLogger } from '../../../shared/log.js';
import { InlineChunkProcessor } from '../../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../../adapters/memory-block-store.js';
import { runBackup } from '../../backup/backup-job.js';
import { runRestore } from '../../restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../../testing/disk-images.js';
import { Libvirtd, runTool, TestDomain, type PatternWrite } from '../../testing/libvirtd.js';
import type { BackupDisk, BackupView, DiskExtent, HypervisorDriver } from '../hypervisor.js';
import type { LibvirtHypervisorConfig } from './libvirt-config.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { NO_CHECKPOINT_YET } from './pull-backup-session.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GRANULE = 64 * KiB;
const CHUNK = 256 * KiB;
const log = silentLogger();
const CHECKPOINT = /^bulwark-[0-9A-HJKMNP-TV-Z]{26}$/;

/** The disks: size and the seeded regions of the initial image (granule-aligned, so each granule holding them is non-zero). */
const DISKS = [
  { target: 'vda', sizeBytes: 64 * MiB, regions: [{ offset: 0, length: 3 * MiB, seed: 1 }, { offset: 40 * MiB + 192 * KiB, length: 320 * KiB, seed: 2 }] },
  { target: 'vdb', sizeBytes: 16 * MiB, regions: [{ offset: 8 * MiB, length: 1 * MiB, seed: 3 }] },
] as const;

type Writes = Record<string, readonly PatternWrite[]>;

function granulesOf(writes: readonly { offset: number; length: number }[]): Set<number> {
  const out = new Set<number>();
  for (const w of writes) for (let g = Math.floor(w.offset / GRANULE); g <= Math.floor((w.offset + w.length - 1) / GRANULE); g++) out.add(g);
  return out;
}

function extentsOf(granules: Iterable<number>, sizeBytes: number): DiskExtent[] {
  const out: { offset: number; length: number }[] = [];
  for (const g of [...granules].sort((a, b) => a - b)) {
    const offset = g * GRANULE;
    const length = Math.min(GRANULE, sizeBytes - offset);
    const last = out[out.length - 1];
    if (last && last.offset + last.length === offset) last.length += length;
    else out.push({ offset, length });
  }
  return out;
}

async function collect(extents: AsyncIterable<DiskExtent> | undefined): Promise<DiskExtent[]> {
  assert.ok(extents, 'the disk offers these extents');
  const out: DiskExtent[] = [];
  for await (const e of extents) out.push({ offset: e.offset, length: e.length });
  return out;
}

async function readAll(disk: BackupDisk): Promise<Buffer> {
  const out = Buffer.alloc(disk.sizeBytes);
  const step = 8 * MiB;
  for (let at = 0; at < disk.sizeBytes; at += step) {
    out.set(await disk.read(at, Math.min(step, disk.sizeBytes - at)), at);
  }
  return out;
}

function diskOf(view: BackupView, name: string): BackupDisk {
  const disk = view.disks.find((d) => d.name === name);
  assert.ok(disk, `view has disk ${name}`);
  return disk;
}

/** The driver with a hook that runs once a view is open, before the backup reads (the guest writes there). */
class HookedDriver implements HypervisorDriver {
  readonly kind = 'libvirt';
  onOpen: (() => Promise<void>) | undefined;

  constructor(private readonly inner: LibvirtDriver) {}

  inventory() {
    return this.inner.inventory();
  }

  async openBackupView(vm: string): Promise<BackupView> {
    const view = await this.inner.openBackupView(vm);
    await this.onOpen?.();
    return view;
  }
}

describe('libvirt driver (real libvirtd, paused TCG domain, checkpoints and pull-mode backup)', () => {
  let dir: string;
  let libvirtd: Libvirtd | undefined;
  let domain: TestDomain | undefined;
  let config: LibvirtHypervisorConfig;
  let driver: LibvirtDriver;
  const model = new Map<string, Buffer>();
  /** The checkpoint the last successful view left. */
  let current = '';

  const guestWrite = async (writes: Writes) => {
    assert.ok(domain);
    for (const [target, list] of Object.entries(writes)) {
      await domain.write(target, list);
      const image = model.get(target);
      assert.ok(image);
      for (const w of list) image.fill(w.pattern, w.offset, w.offset + w.length);
    }
  };
  const snapshot = () => new Map([...model].map(([k, v]) => [k, Buffer.from(v)]));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-libvirt-'));
    // QEMU runs as libvirt-qemu: it must reach the images and the scratch files.
    await chmod(dir, 0o755);
    const scratchDir = join(dir, 'scratch');
    await mkdir(scratchDir, { mode: 0o755 });
    for (const d of DISKS) {
      const regions = d.regions.map((r) => ({ offset: r.offset, data: seededBytes(r.seed, r.length) }));
      const raw = join(dir, `${d.target}.raw`);
      await writeDiskImage(raw, d.sizeBytes, regions);
      await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, join(dir, `${d.target}.qcow2`)]);
      model.set(d.target, await readFile(raw));
      await rm(raw);
    }
    libvirtd = await Libvirtd.start();
    domain = await TestDomain.start(libvirtd, {
      name: `bulwark-test-${process.pid}`,
      disks: DISKS.map((d) => ({ target: d.target, imagePath: join(dir, `${d.target}.qcow2`) })),
      xmlPath: join(dir, 'domain.xml'),
    });
    config = { kind: 'libvirt', uri: libvirtd.uri, nbdHost: '127.0.0.1', scratchDir, vms: [{ name: 'vm', domain: domain.name }] };
    driver = new LibvirtDriver(config, log);
  });

  after(async () => {
    await domain?.remove();
    await libvirtd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the domain disks with their sizes; a missing domain has none and cannot be backed up', async () => {
    const withGhost = new LibvirtDriver({ ...config, vms: [...config.vms, { name: 'ghost', domain: 'bulwark-no-such-domain' }] }, log);
    assert.deepEqual(await withGhost.inventory(), [
      { name: 'vm', hypervisor: 'libvirt', disks: DISKS.map((d) => ({ name: d.target, sizeBytes: d.sizeBytes })) },
      { name: 'ghost', hypervisor: 'libvirt', disks: [] },
    ]);
    await assert.rejects(withGhost.openBackupView('ghost'), (err: unknown) => err instanceof NotFoundError && /bulwark-no-such-domain/.test(err.message));
    await assert.rejects(withGhost.openBackupView('nope'), NotFoundError);
  });

  it('opens a full first view: the allocated extents and bytes are the image', async () => {
    const view = await driver.openBackupView('vm');
    try {
      assert.match(view.checkpoint ?? '', CHECKPOINT);
      assert.equal(view.baseCheckpoint, null);
      assert.equal(view.fullReason, NO_CHECKPOINT_YET);
      assert.deepEqual(view.consistency, { level: 'crash', note: null });
      await assert.rejects(driver.openBackupView('vm'), { name: 'LibvirtViewBusyError' });
      for (const d of DISKS) {
        const disk = diskOf(view, d.target);
        assert.equal(disk.sizeBytes, d.sizeBytes);
        assert.equal(disk.changeTracking, 'hash');
        assert.ok(!('dirtyExtents' in disk));
        assert.deepEqual(await collect(disk.allocatedExtents?.()), extentsOf(granulesOf(d.regions), d.sizeBytes), `${d.target}: allocated = the written clusters`);
        assert.ok((await readAll(disk)).equals(model.get(d.target) ?? Buffer.alloc(0)), `${d.target}: bytes equal the image`);
      }
    } catch (err) {
      await view.finish(false);
      throw err;
    }
    await view.finish(true);
    assert.ok(domain);
    assert.deepEqual(await domain.checkpoints(), [view.checkpoint]);
    current = view.checkpoint ?? '';
  });

  const before2: Writes = {
    vda: [
      { offset: 1 * MiB + 4 * KiB, length: 4 * KiB, pattern: 0x41 },
      { offset: 10 * MiB, length: 192 * KiB, pattern: 0x42 },
      { offset: 63 * MiB + 60 * KiB, length: 8 * KiB, pattern: 0x43 },
    ],
    vdb: [{ offset: 0, length: 64 * KiB, pattern: 0x44 }],
  };
  const after2: Writes = {
    vda: [
      { offset: 10 * MiB + 64 * KiB, length: 64 * KiB, pattern: 0x51 },
      { offset: 30 * MiB, length: 64 * KiB, pattern: 0x52 },
    ],
    vdb: [{ offset: 8 * MiB, length: 64 * KiB, pattern: 0x53 }],
  };

  it('opens an incremental view: exactly the written granules are dirty, and it holds its instant', async () => {
    await guestWrite(before2);
    const instant = snapshot();
    const view = await driver.openBackupView('vm');
    try {
      assert.equal(view.baseCheckpoint, current);
      assert.equal(view.fullReason, null);
      assert.ok((view.checkpoint ?? '') > current);
      // Written once the view is open: not in it.
      await guestWrite(after2);
      for (const d of DISKS) {
        const disk = diskOf(view, d.target);
        assert.equal(disk.changeTracking, 'dirty-bitmap');
        assert.deepEqual(await collect(disk.dirtyExtents?.()), extentsOf(granulesOf(before2[d.target] ?? []), d.sizeBytes), `${d.target}: dirty granules`);
        const bytes = await readAll(disk);
        assert.ok(bytes.equals(instant.get(d.target) ?? Buffer.alloc(0)), `${d.target}: the view is the instant it opened`);
        assert.ok(!bytes.equals(model.get(d.target) ?? Buffer.alloc(0)), `${d.target}: the live disk moved on`);
      }
    } finally {
      // A failed backup: the new checkpoint goes, the base stays.
      await view.finish(false);
    }
    assert.ok(domain);
    assert.deepEqual(await domain.checkpoints(), [current]);
  });

  it('after a failed view, the next one still has every change since the base', async () => {
    const view = await driver.openBackupView('vm');
    try {
      assert.equal(view.baseCheckpoint, current);
      for (const d of DISKS) {
        const written = [...(before2[d.target] ?? []), ...(after2[d.target] ?? [])];
        assert.deepEqual(await collect(diskOf(view, d.target).dirtyExtents?.()), extentsOf(granulesOf(written), d.sizeBytes), `${d.target}: dirty granules`);
        assert.ok((await readAll(diskOf(view, d.target))).equals(model.get(d.target) ?? Buffer.alloc(0)));
      }
    } catch (err) {
      await view.finish(false);
      throw err;
    }
    await view.finish(true);
    assert.ok(domain);
    assert.deepEqual(await domain.checkpoints(), [view.checkpoint], 'success keeps only the new checkpoint');
    current = view.checkpoint ?? '';
  });

  it('backs up with the backup job and restores byte for byte: full, then a dirty-bitmap incremental', async () => {
    const clock = new ManualClock();
    const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
    const hooked = new HookedDriver(driver);
    let seq = 0;
    const backup = () => {
      clock.advance(1000);
      return runBackup(
        { jobId: `job-${++seq}`, attempt: 1, vm: 'vm', mode: 'auto' },
        { driver: hooked, store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
      );
    };
    const restoredEquals = async (backupId: string, expected: ReadonlyMap<string, Buffer>) => {
      const target = join(dir, `restore-${backupId}`);
      await runRestore(
        { backupId, vm: 'vm', targetDir: target },
        { store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
      );
      for (const d of DISKS) assert.ok((await readFile(join(target, `${d.target}.img`))).equals(expected.get(d.target) ?? Buffer.alloc(0)), `${d.target} restores byte for byte`);
    };

    // The guest writes while the first backup runs: the backup is the instant the view opened.
    const during: Writes = { vda: [{ offset: 2 * MiB, length: 128 * KiB, pattern: 0x61 }, { offset: 50 * MiB, length: 64 * KiB, pattern: 0x62 }] };
    const firstInstant = snapshot();
    hooked.onOpen = () => guestWrite(during);
    const first = await backup();
    hooked.onOpen = undefined;
    const firstManifest = decodeManifest(await store.getManifest(first.backup.backupId));
    assert.equal(firstManifest.mode, 'full');
    assert.match(firstManifest.checkpoint ?? '', CHECKPOINT);
    await restoredEquals(first.backup.backupId, firstInstant);

    const later: Writes = { vda: [{ offset: 20 * MiB, length: 64 * KiB, pattern: 0x71 }], vdb: [{ offset: 12 * MiB, length: 4 * KiB, pattern: 0x72 }] };
    await guestWrite(later);
    const secondInstant = snapshot();
    const second = await backup();
    const secondManifest = decodeManifest(await store.getManifest(second.backup.backupId));
    assert.equal(secondManifest.mode, 'incremental');
    assert.equal(secondManifest.changeTracking, 'dirty-bitmap');
    assert.equal(secondManifest.parentBackupId, first.backup.backupId);
    const dirtyChunks = DISKS.reduce((n, d) => {
      const written = [...(during[d.target] ?? []), ...(later[d.target] ?? [])];
      return n + new Set([...granulesOf(written)].map((g) => Math.floor((g * GRANULE) / CHUNK))).size;
    }, 0);
    assert.equal(second.bytesRead, dirtyChunks * CHUNK, 'the incremental reads only the dirty chunks');
    await restoredEquals(second.backup.backupId, secondInstant);
    assert.ok(domain);
    current = secondManifest.checkpoint ?? '';
    assert.deepEqual(await domain.checkpoints(), [current]);
  });

  it('repairs what a crashed agent left: its pull job is aborted, its checkpoint dropped, the base kept', async () => {
    // A driver that "crashes": its view is never finished.
    const crashed = await new LibvirtDriver(config, log).openBackupView('vm');
    assert.equal(crashed.baseCheckpoint, current);
    await guestWrite({ vda: [{ offset: 5 * MiB, length: 64 * KiB, pattern: 0x81 }] });
    const view = await driver.openBackupView('vm');
    try {
      assert.equal(view.baseCheckpoint, current, 'the oldest checkpoint stays the base');
      assert.deepEqual(await collect(diskOf(view, 'vda').dirtyExtents?.()), extentsOf(granulesOf([{ offset: 5 * MiB, length: 64 * KiB }]), 64 * MiB));
      assert.ok(domain);
      assert.deepEqual(await domain.checkpoints(), [current, view.checkpoint]);
    } finally {
      await view.finish(false);
    }
  });

  it('after QEMU was killed, the lost bitmap makes the next view full, and it says why', async () => {
    assert.ok(domain);
    await domain.crash();
    await domain.startPaused();
    const view = await driver.openBackupView('vm');
    try {
      assert.equal(view.baseCheckpoint, null);
      assert.match(view.fullReason ?? '', new RegExp(`libvirt checkpoint ${current} is unusable`));
      assert.ok(!('dirtyExtents' in diskOf(view, 'vda')));
      assert.deepEqual(await domain.checkpoints(), [view.checkpoint], 'the broken checkpoint is gone');
    } catch (err) {
      await view.finish(false);
      throw err;
    }
    await view.finish(true);
    assert.deepEqual(await domain.checkpoints(), [view.checkpoint]);
  });
});
