/**
 * Deterministic disk images for the agent's tests: seeded pseudo-random bytes, written as sparse
 * raw files (unwritten ranges are holes, i.e. zeros).
 */
import { open } from 'node:fs/promises';

/** `length` pseudo-random bytes from `seed` (xorshift32): the same seed gives the same bytes. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed | 0) || 0x9e3779b9;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const word = x >>> 0;
    for (let b = 0; b < 4 && i + b < length; b++) out[i + b] = (word >>> (8 * b)) & 0xff;
  }
  return out;
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
