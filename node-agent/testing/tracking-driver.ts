/**
 * A test driver with change tracking, over the files driver: the test writes through it, and it
 * records what was written since each checkpoint as a QEMU dirty bitmap would (whole granules),
 * and what was ever written as the allocated ranges. Views follow the port's checkpoint contract:
 * a new checkpoint per view, the base one's dirty extents, success moves the base, failure keeps
 * every change. For unit tests of the backup job; the real thing is the qemu driver.
 */
import type { FilesHypervisorConfig } from '../config.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import type { BackupDisk, BackupView, DiskExtent, HypervisorDriver, VmInventory } from '../hypervisors/hypervisor.js';
import type { Logger } from '../../shared/log.js';
import { patchDiskImage } from './disk-images.js';

const GRANULE = 64 * 1024;

/** Granule numbers as sorted, merged extents. */
function extentsOf(granules: ReadonlySet<number>, sizeBytes: number): DiskExtent[] {
  const sorted = [...granules].sort((a, b) => a - b);
  const out: { offset: number; length: number }[] = [];
  for (const g of sorted) {
    const offset = g * GRANULE;
    const length = Math.min(GRANULE, sizeBytes - offset);
    const last = out[out.length - 1];
    if (last && last.offset + last.length === offset) last.length += length;
    else out.push({ offset, length });
  }
  return out;
}

function iterate(extents: readonly DiskExtent[]): AsyncIterable<DiskExtent> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = extents[Symbol.iterator]();
      return { next: () => Promise.resolve(it.next()) };
    },
  };
}

interface DiskState {
  readonly path: string;
  allocated: Set<number>;
  /** Dirty granules since the base checkpoint. */
  dirty: Set<number>;
}

export class TrackingDriver implements HypervisorDriver {
  readonly kind = 'files';
  private readonly files: FilesDriver;
  private readonly disks = new Map<string, DiskState>();
  private base: string | null = null;
  private seq = 0;
  /** The next view reports this instead of its dirty extents (a lost bitmap). */
  loseBitmapOnce: string | null = null;
  /** Bytes read through views, by disk. */
  readonly bytesRead = new Map<string, number>();

  constructor(private readonly config: FilesHypervisorConfig, log: Logger) {
    this.files = new FilesDriver(config, log);
    for (const vm of config.vms) for (const d of vm.disks) this.disks.set(`${vm.name}/${d.name}`, { path: d.path, allocated: new Set(), dirty: new Set() });
  }

  inventory(): Promise<VmInventory[]> {
    return this.files.inventory();
  }

  /** Writes `data` at `offset` of a disk image and records it. */
  async write(vm: string, disk: string, offset: number, data: Buffer): Promise<void> {
    const state = this.disks.get(`${vm}/${disk}`);
    if (!state) throw new Error(`no disk ${vm}/${disk}`);
    await patchDiskImage(state.path, [{ offset, data }]);
    for (let g = Math.floor(offset / GRANULE); g <= Math.floor((offset + data.length - 1) / GRANULE); g++) {
      state.allocated.add(g);
      state.dirty.add(g);
    }
  }

  async openBackupView(vmName: string): Promise<BackupView> {
    const inner = await this.files.openBackupView(vmName);
    const checkpoint = `ckpt-${++this.seq}`;
    const lost = this.loseBitmapOnce;
    this.loseBitmapOnce = null;
    const base = lost ? null : this.base;
    // The new checkpoint starts now: what the view reads is frozen, new writes go to the new one.
    const frozen = new Map<string, Set<number>>();
    for (const d of inner.disks) {
      const state = this.disks.get(`${vmName}/${d.name}`);
      if (!state) throw new Error(`no disk ${vmName}/${d.name}`);
      frozen.set(d.name, state.dirty);
      state.dirty = new Set();
    }
    const disks: BackupDisk[] = inner.disks.map((d) => {
      const state = this.disks.get(`${vmName}/${d.name}`);
      const allocated = extentsOf(state?.allocated ?? new Set(), d.sizeBytes);
      const dirty = extentsOf(frozen.get(d.name) ?? new Set(), d.sizeBytes);
      const count = (n: number) => this.bytesRead.set(d.name, (this.bytesRead.get(d.name) ?? 0) + n);
      return {
        name: d.name,
        sizeBytes: d.sizeBytes,
        changeTracking: base ? 'dirty-bitmap' : 'hash',
        read: async (offset, length) => {
          count(length);
          return d.read(offset, length);
        },
        allocatedExtents: () => iterate(allocated),
        ...(base ? { dirtyExtents: () => iterate(dirty) } : {}),
      };
    });
    return {
      vm: vmName,
      disks,
      consistency: { level: 'crash', note: null },
      checkpoint,
      baseCheckpoint: base,
      fullReason: lost ? lost : base ? null : 'no dirty bitmap yet',
      finish: async (success) => {
        await inner.finish(success);
        if (success) {
          this.base = checkpoint;
          return;
        }
        // Failure: the base keeps its changes and gains the new checkpoint's.
        for (const d of inner.disks) {
          const state = this.disks.get(`${vmName}/${d.name}`);
          if (!state) continue;
          const merged = new Set([...(frozen.get(d.name) ?? []), ...state.dirty]);
          state.dirty = merged;
        }
        if (lost) this.base = null;
      },
    };
  }
}
