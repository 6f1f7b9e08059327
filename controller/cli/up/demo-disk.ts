/**
 * Seeded, reproducible demo disk images with the mix a real VM disk has: large zero regions
 * (left as holes), text, random (incompressible) data, and blocks repeated elsewhere in the
 * image at offsets aligned to 4 KiB but not to the chunk size, as files sit in a filesystem.
 */
import { open } from 'node:fs/promises';
import { SeededBytes } from '../../../shared/seeded-bytes.js';

const MIB = 1024 * 1024;
const REGION_BYTES = MIB;

const words = (
  'backup replica chunk digest manifest restore snapshot bitmap storage site vm disk ' +
  'kernel journal inode extent block sector the a of and to in is for on with as by ' +
  'server client request response config log error warning info debug user service'
).split(' ');

function textRegion(rng: SeededBytes, size: number): Buffer {
  // One random byte picks each word; a line ends after 6 to 15 words.
  const picks = rng.next(Math.ceil(size / 3));
  const out = Buffer.allocUnsafe(size + 64);
  let length = 0;
  let inLine = 0;
  for (let i = 0; length < size; i++) {
    const pick = picks[i % picks.length] ?? 0;
    const word = words[pick % words.length] ?? 'x';
    length += out.write(word, length, 'latin1');
    inLine++;
    if (inLine >= 6 + (pick % 10)) {
      length += out.write('.\n', length, 'latin1');
      inLine = 0;
    } else {
      out[length++] = 0x20;
    }
  }
  return out.subarray(0, size);
}

/** What a generated image holds, region by region. */
export interface DemoDiskLayout {
  readonly sizeBytes: number;
  readonly regions: { zero: number; text: number; random: number; repeated: number };
}

/**
 * Writes a demo image of `sizeBytes` (a multiple of 1 MiB) at `path`, sparse where it is zero.
 * The same seed and size give the same bytes.
 */
export async function writeDemoDisk(path: string, sizeBytes: number, seed = 'bulwark-demo'): Promise<DemoDiskLayout> {
  if (sizeBytes % MIB !== 0 || sizeBytes <= 0) throw new RangeError('demo disk size must be a positive multiple of 1 MiB');
  const rng = new SeededBytes(seed);
  const regions = { zero: 0, text: 0, random: 0, repeated: 0 };
  const written: number[] = [];
  const file = await open(path, 'w+');
  try {
    await file.truncate(sizeBytes);
    for (let offset = 0; offset < sizeBytes; offset += REGION_BYTES) {
      const pick = rng.int(100);
      let data: Buffer | undefined;
      if (pick < 35) {
        regions.zero++;
      } else if (pick < 60) {
        data = textRegion(rng, REGION_BYTES);
        regions.text++;
      } else if (pick < 80 || written.length === 0) {
        data = rng.next(REGION_BYTES);
        regions.random++;
      } else {
        // Copy an earlier region, shifted by a multiple of 4 KiB, to a 4 KiB-aligned offset.
        const from = (written[rng.int(written.length)] ?? 0) + 4096 * rng.int(255);
        const copy = Buffer.alloc(REGION_BYTES);
        await file.read(copy, 0, REGION_BYTES, from);
        const shift = 4096 * (1 + rng.int(200));
        const target = Math.min(offset + shift, sizeBytes - REGION_BYTES);
        await file.write(copy, 0, REGION_BYTES, target);
        regions.repeated++;
        continue;
      }
      if (data) {
        await file.write(data, 0, data.length, offset);
        written.push(offset);
      }
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { sizeBytes, regions };
}

/**
 * Changes about `fraction` of an image in scattered 64 KiB writes (seeded); returns the offsets.
 * This is what a busy guest does between two backups.
 */
export async function mutateDemoDisk(path: string, fraction: number, seed = 'bulwark-change'): Promise<number[]> {
  const rng = new SeededBytes(seed);
  const write = 64 * 1024;
  const file = await open(path, 'r+');
  try {
    const { size } = await file.stat();
    const count = Math.max(1, Math.round((size * fraction) / write));
    const offsets: number[] = [];
    for (let i = 0; i < count; i++) {
      const offset = 4096 * rng.int(Math.floor((size - write) / 4096));
      await file.write(rng.next(write), 0, write, offset);
      offsets.push(offset);
    }
    await file.sync();
    return offsets;
  } finally {
    await file.close();
  }
}
