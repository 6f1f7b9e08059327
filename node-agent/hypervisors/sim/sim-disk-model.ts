/**
 * What a simulated VM's disk holds at each generation, computed from the seed alone (nothing is
 * stored): generation 0 is the VM's first state; generation g ≥ 1 differs from g − 1 in a seeded
 * set of blocks (`changedBlocks`, `changeFraction` of the disk, at least one block when the
 * fraction is above 0). A block's bytes depend on the last generation that changed it, so any
 * party holding the config (the agent, a test, a bench) derives the same disk at the same
 * generation. Generation-0 blocks are shared by every VM with `baseImage: 'shared'` (clones of
 * one template), otherwise they are the VM's own.
 */
import { SeededBytes } from '../../../shared/seeded-bytes.js';
import type { SimHypervisorConfig } from './sim-config.js';

/** The name of the VM with this index: `<prefix>-<index, five digits>`. */
export function simVmName(namePrefix: string, index: number): string {
  return `${namePrefix}-${String(index).padStart(5, '0')}`;
}

export class SimDiskModel {
  readonly blocksPerDisk: number;
  readonly diskNames: readonly string[];
  private readonly vmIndexes = new Map<string, number>();

  constructor(readonly config: SimHypervisorConfig) {
    this.blocksPerDisk = config.diskSizeBytes / config.blockBytes;
    this.diskNames = Array.from({ length: config.disksPerVm }, (_, i) => `disk${i}`);
    for (let i = config.firstIndex; i < config.firstIndex + config.vmCount; i++) this.vmIndexes.set(simVmName(config.namePrefix, i), i);
  }

  /** Every VM's name, in index order. */
  vmNames(): string[] {
    return [...this.vmIndexes.keys()];
  }

  hasVm(vm: string): boolean {
    return this.vmIndexes.has(vm);
  }

  hasDisk(disk: string): boolean {
    return this.diskNames.includes(disk);
  }

  /** The blocks that change from generation g − 1 to g (g ≥ 1), sorted. */
  changedBlocks(vm: string, disk: string, generation: number): number[] {
    if (generation < 1) return [];
    const n = this.blocksPerDisk;
    const fraction = this.config.changeFraction;
    const k = fraction === 0 ? 0 : Math.min(n, Math.max(1, Math.round(fraction * n)));
    // Floyd's sampling: k distinct blocks out of n, from the seed, vm, disk and generation.
    const rng = new SeededBytes(`${this.config.seed}/change/${vm}/${disk}/${generation}`);
    const chosen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const t = rng.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].sort((a, b) => a - b);
  }

  /** Each changed block's last changing generation up to `generation` (absent: still generation 0). */
  blockVersions(vm: string, disk: string, generation: number): Map<number, number> {
    const versions = new Map<number, number>();
    for (let g = 1; g <= generation; g++) for (const b of this.changedBlocks(vm, disk, g)) versions.set(b, g);
    return versions;
  }

  /** The bytes of one whole block at a version (the generation that last wrote it). */
  blockBytes(vm: string, disk: string, block: number, version: number): Buffer {
    const key =
      version === 0 && this.config.baseImage === 'shared'
        ? `${this.config.seed}/base/${disk}/${block}`
        : `${this.config.seed}/vm/${vm}/${disk}/${block}/${version}`;
    return new SeededBytes(key).next(this.config.blockBytes);
  }

  /** Fills `target` with the disk's bytes at `offset`, given the versions of its changed blocks. */
  readInto(vm: string, disk: string, versions: ReadonlyMap<number, number>, target: Buffer, offset: number): void {
    const bs = this.config.blockBytes;
    let done = 0;
    while (done < target.length) {
      const at = offset + done;
      const block = Math.floor(at / bs);
      const within = at - block * bs;
      const length = Math.min(bs - within, target.length - done);
      this.blockBytes(vm, disk, block, versions.get(block) ?? 0).copy(target, done, within, within + length);
      done += length;
    }
  }

  /** The whole disk at a generation (for tests and benches that compare a restore). */
  diskBytes(vm: string, disk: string, generation: number): Buffer {
    const out = Buffer.allocUnsafe(this.config.diskSizeBytes);
    this.readInto(vm, disk, this.blockVersions(vm, disk, generation), out, 0);
    return out;
  }
}
