/**
 * The `sim` hypervisor driver: synthetic VMs for scale tests only (DESIGN.md §6; never the
 * default, never the only proof of a feature). It exercises the agent's job handling, the
 * backup pipeline, storage and the control plane without real disks; it does not exercise a
 * hypervisor (no QMP, NBD, fleecing or guest).
 *
 * Each VM's disks move one generation per backup view: the first view of a VM sees generation
 * 0, the next one generation 1, and so on (sim-disk-model.ts says what each holds). Views follow
 * the port's checkpoint contract: checkpoint `sim-<epoch>-<generation>` (epoch: the driver's
 * start, so checkpoints of an earlier run never match), dirty extents relative to the last view
 * that finished successfully (the blocks changed in every generation since), failure keeps every
 * change for the next view. State lives in memory: a restarted agent starts every VM again at
 * generation 0 with no base checkpoint (its next backup reads everything and hashes).
 *
 * Snapshots (`snapshots`) are names kept in memory with the generation they were taken at; a
 * revert sets the VM back to that generation and drops its base checkpoint (as a real revert
 * makes the dirty bitmap meaningless). They give the scale bench a job that runs through the
 * whole control plane without the data path.
 */
import type { Clock } from '../../../shared/clock.js';
import { NotFoundError } from '../../../shared/errors.js';
import type {
  BackupDisk,
  BackupView,
  DiskExtent,
  HypervisorDriver,
  SnapshotCreateOptions,
  SnapshotOutcome,
  VmInventory,
  VmSnapshot,
  VmSnapshots,
} from '../hypervisor.js';
import type { SimHypervisorConfig } from './sim-config.js';
import { SimDiskModel } from './sim-disk-model.js';

interface SimSnapshot {
  readonly name: string;
  readonly createdAt: string;
  readonly generation: number;
}

interface VmState {
  /** The generation the next view sees. */
  nextGeneration: number;
  snapshots: SimSnapshot[];
  /** The generation of the last successful view (its checkpoint is the next view's base), or null. */
  baseGeneration: number | null;
}

/** Sorted blocks as merged byte extents. */
function extentsOf(blocks: readonly number[], blockBytes: number): DiskExtent[] {
  const out: { offset: number; length: number }[] = [];
  for (const b of blocks) {
    const offset = b * blockBytes;
    const last = out[out.length - 1];
    if (last && last.offset + last.length === offset) last.length += blockBytes;
    else out.push({ offset, length: blockBytes });
  }
  return out;
}

async function* iterate(extents: readonly DiskExtent[]): AsyncIterable<DiskExtent> {
  await Promise.resolve();
  yield* extents;
}

export class SimDriver implements HypervisorDriver {
  readonly kind = 'sim';
  readonly model: SimDiskModel;
  private readonly epoch: number;
  private readonly vms = new Map<string, VmState>();
  /** Bytes read through views, over all VMs (what an incremental saves shows here). */
  bytesRead = 0;
  readonly snapshots: VmSnapshots;

  constructor(
    config: SimHypervisorConfig,
    private readonly clock: Clock,
  ) {
    this.model = new SimDiskModel(config);
    this.epoch = clock.nowMs();
    const settle = (op: () => SnapshotOutcome) => new Promise<SnapshotOutcome>((resolve) => resolve(op()));
    this.snapshots = {
      create: (vm, options) => settle(() => this.createSnapshot(vm, options)),
      list: (vm) => settle(() => this.outcome(this.state(vm), {})),
      remove: (vm, name) => settle(() => this.removeSnapshot(vm, name)),
      revert: (vm, name) => settle(() => this.revertSnapshot(vm, name)),
    };
  }

  inventory(): Promise<VmInventory[]> {
    const disks = this.model.diskNames.map((name) => ({ name, sizeBytes: this.model.config.diskSizeBytes }));
    const tags = this.model.config.tags;
    return Promise.resolve(this.model.vmNames().map((name) => ({ name, hypervisor: 'sim', disks, ...(tags.length > 0 ? { tags: [...tags] } : {}) })));
  }

  /** The VMs' tags (config `tags`, the same for every VM of this driver). */
  tagsOf(vm: string): readonly string[] {
    if (!this.model.hasVm(vm)) throw new NotFoundError('VM', vm);
    return this.model.config.tags;
  }

  /** The generation the VM's next view will see (its views so far). */
  nextGenerationOf(vm: string): number {
    return this.vms.get(vm)?.nextGeneration ?? 0;
  }

  /** The generation a checkpoint this driver made names, or null for another's. */
  generationOfCheckpoint(checkpoint: string | null): number | null {
    const match = checkpoint === null ? null : /^sim-(\d+)-(\d+)$/.exec(checkpoint);
    if (!match || Number(match[1]) !== this.epoch) return null;
    return Number(match[2]);
  }

  openBackupView(vm: string): Promise<BackupView> {
    if (!this.model.hasVm(vm)) return Promise.reject(new NotFoundError('VM', vm));
    const state = this.state(vm);
    const generation = state.nextGeneration++;
    const base = state.baseGeneration;
    const { model } = this;
    const { blockBytes, diskSizeBytes } = model.config;
    const disks: BackupDisk[] = model.diskNames.map((name) => {
      const versions = model.blockVersions(vm, name, generation);
      let dirty: DiskExtent[] | undefined;
      if (base !== null) {
        const changed = new Set<number>();
        for (let g = base + 1; g <= generation; g++) for (const b of model.changedBlocks(vm, name, g)) changed.add(b);
        dirty = extentsOf([...changed].sort((a, b) => a - b), blockBytes);
      }
      const readInto = (target: Buffer, offset: number): Promise<void> => {
        if (offset < 0 || offset + target.length > diskSizeBytes) {
          return Promise.reject(new RangeError(`read of ${target.length} bytes at ${offset} is outside disk ${name} (${diskSizeBytes} bytes)`));
        }
        this.bytesRead += target.length;
        model.readInto(vm, name, versions, target, offset);
        return Promise.resolve();
      };
      return {
        name,
        sizeBytes: diskSizeBytes,
        changeTracking: dirty ? 'dirty-bitmap' : 'hash',
        readInto,
        read: async (offset, length) => {
          const buf = Buffer.allocUnsafe(length);
          await readInto(buf, offset);
          return buf;
        },
        ...(dirty ? { dirtyExtents: () => iterate(dirty) } : {}),
      };
    });
    return Promise.resolve({
      vm,
      disks,
      consistency: { level: 'crash', note: 'simulated VM (sim driver, scale tests only)' },
      checkpoint: this.checkpointName(generation),
      baseCheckpoint: base === null ? null : this.checkpointName(base),
      fullReason: base === null ? 'no earlier successful view of this simulated VM' : null,
      finish: (success) => {
        // Success moves the base here; failure keeps the old base, so the next view's dirty set covers this one's changes too.
        if (success && (state.baseGeneration === null || state.baseGeneration < generation)) state.baseGeneration = generation;
        return Promise.resolve();
      },
    });
  }

  private state(vm: string): VmState {
    if (!this.model.hasVm(vm)) throw new NotFoundError('VM', vm);
    let state = this.vms.get(vm);
    if (!state) {
      state = { nextGeneration: 0, snapshots: [], baseGeneration: null };
      this.vms.set(vm, state);
    }
    return state;
  }

  private createSnapshot(vm: string, options: SnapshotCreateOptions): SnapshotOutcome {
    const state = this.state(vm);
    const name = options.name ?? `bulwark-${options.id ?? String(this.clock.nowMs())}`;
    const existing = state.snapshots.find((s) => s.name === name);
    if (!existing) state.snapshots.push({ name, createdAt: this.clock.nowIso(), generation: state.nextGeneration });
    const removed: string[] = [];
    if (options.keep !== undefined) {
      const own = state.snapshots.filter((s) => s.name.startsWith('bulwark-'));
      for (const old of own.slice(0, Math.max(0, own.length - options.keep))) removed.push(old.name);
      state.snapshots = state.snapshots.filter((s) => !removed.includes(s.name));
    }
    return this.outcome(state, { created: name, removed });
  }

  private removeSnapshot(vm: string, name: string): SnapshotOutcome {
    const state = this.state(vm);
    if (!state.snapshots.some((s) => s.name === name)) throw new NotFoundError(`snapshot of VM ${vm}`, name);
    state.snapshots = state.snapshots.filter((s) => s.name !== name);
    return this.outcome(state, { removed: [name] });
  }

  private revertSnapshot(vm: string, name: string): SnapshotOutcome {
    const state = this.state(vm);
    const snapshot = state.snapshots.find((s) => s.name === name);
    if (!snapshot) throw new NotFoundError(`snapshot of VM ${vm}`, name);
    state.nextGeneration = snapshot.generation;
    state.baseGeneration = null;
    return this.outcome(state, { reverted: name });
  }

  private outcome(state: VmState, done: { created?: string; removed?: string[]; reverted?: string }): SnapshotOutcome {
    const snapshots: VmSnapshot[] = state.snapshots.map((s) => ({
      name: s.name,
      createdAt: s.createdAt,
      madeByBulwark: s.name.startsWith('bulwark-'),
      disks: this.model.diskNames.map((disk) => ({ disk, id: s.name, createdAt: s.createdAt, vmStateSizeBytes: 0 })),
    }));
    return {
      created: done.created ?? null,
      removed: done.removed ?? [],
      reverted: done.reverted ?? null,
      vmRunning: true,
      snapshots,
      incomplete: [],
      note: 'simulated VM (sim driver)',
    };
  }

  private checkpointName(generation: number): string {
    return `sim-${this.epoch}-${generation}`;
  }
}
