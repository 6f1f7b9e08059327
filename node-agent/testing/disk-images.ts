/**
 * Deterministic disk images for the agent's tests: seeded pseudo-random bytes, written as sparse
 * raw files (unwritten ranges are holes, i.e. zeros).
 */
import { open } from 'node:fs/promises';
import { SeededBytes } from '../../shared/seeded-bytes.js';

/** `length` pseudo-random bytes from `seed`: the same seed gives the same bytes. */
export function seededBytes(seed: number, length: number): Buffer {
  return new SeededBytes(seed).next(length);
}

/** Bytes to place at an offset of a disk image. */
export interface Region {
  readonly offset: number;
  readonly data: Uint8Array;
}

/** Creates (or replaces) a sparse image of `sizeBytes` holding `regions`. */
export async function writeDiskImage(path: string, sizeBytes: number, regions: readonly Region[]): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.truncate(sizeBytes);
    for (const r of regions) await handle.write(r.data, 0, r.data.length, r.offset);
  } finally {
    await handle.close();
  }
}

/** Overwrites ranges of an existing image in place. */
export async function patchDiskImage(path: string, regions: readonly Region[]): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    for (const r of regions) await handle.write(r.data, 0, r.data.length, r.offset);
  } finally {
    await handle.close();
  }
}
