/**
 * The bench's disk image: one seeded demo image (zeros left as holes, compressible text, random
 * data, and regions repeated at 4 KiB-aligned offsets that are not 1 MiB-aligned), generated
 * fresh in the run's temp dir, never cached. Every tool starts from a sparse copy of the same
 * pristine image and applies the same seeded 2% change (scattered 64 KiB writes).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { mutateDemoDisk, writeDemoDisk, type DemoDiskLayout } from '../controller/cli/up/demo-disk.js';
import { fileSha256 } from '../test/helpers/files.js';
import { allocatedTreeBytes, runChecked } from './measure.js';

/** The share of the image the incremental scenario changes. */
export const CHANGE_FRACTION = 0.02;

export interface BenchImage {
  readonly pristinePath: string;
  readonly sizeBytes: number;
  readonly seed: number;
  readonly layout: DemoDiskLayout;
  readonly allocatedBytes: number;
  /** sha256 of the image as generated. */
  readonly sha256: string;
  /** sha256 of the image after the change: what a restore of the latest backup must give. */
  readonly changedSha256: string;
  readonly changedBytes: number;
  /** Makes `path` a fresh sparse copy of the pristine image. */
  copyTo(path: string): Promise<void>;
  /** Applies the seeded change to a copy; returns the bytes written. */
  change(path: string): Promise<number>;
}

/** Generates the pristine image under `dir` and learns the hashes before and after the change. */
export async function createBenchImage(dir: string, sizeBytes: number, seed: number): Promise<BenchImage> {
  const pristinePath = join(dir, 'pristine.img');
  const layout = await writeDemoDisk(pristinePath, sizeBytes, `bench/${seed}`);
  const copyTo = async (path: string) => {
    await runChecked('cp', ['--sparse=always', pristinePath, path]);
  };
  const change = async (path: string) => (await mutateDemoDisk(path, CHANGE_FRACTION, `bench-change/${seed}`)).length * 64 * 1024;
  const probe = join(dir, 'changed.img');
  await copyTo(probe);
  const changedBytes = await change(probe);
  const [sha256, changedSha256] = await Promise.all([fileSha256(pristinePath), fileSha256(probe)]);
  rmSync(probe, { force: true });
  return {
    pristinePath,
    sizeBytes,
    seed,
    layout,
    allocatedBytes: allocatedTreeBytes(dir),
    sha256,
    changedSha256,
    changedBytes,
    copyTo,
    change,
  };
}
