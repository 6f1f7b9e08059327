/**
 * A stand-in for a busy guest: writes to a VM's disk through the writable NBD export of its
 * qemu-storage-daemon (`bulwark up`'s QEMU demo VMs), and checks that a backup taken while it
 * wrote is one instant of that disk. Writes are 64 KiB, 64 KiB-aligned, each to a block no other
 * write of the same writer touches, one at a time: so the disk at any instant is "the disk before,
 * plus the first k writes", and a point-in-time backup must restore exactly that for some k.
 */
import { copyFile, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NbdClient } from '../../node-agent/hypervisors/qemu/nbd-client.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';

export const GUEST_WRITE_BYTES = 64 * 1024;

export interface GuestWrite {
  readonly offset: number;
  readonly data: Buffer;
}

/** Distinct 64 KiB blocks of a disk in a seeded order, with seeded contents. */
function* plannedWrites(seed: string, sizeBytes: number): Generator<GuestWrite> {
  const rng = new SeededBytes(seed);
  const blocks = Math.floor(sizeBytes / GUEST_WRITE_BYTES);
  const used = new Set<number>();
  while (used.size < blocks) {
    const block = rng.int(blocks);
    if (used.has(block)) continue;
    used.add(block);
    yield { offset: block * GUEST_WRITE_BYTES, data: rng.next(GUEST_WRITE_BYTES) };
  }
}

/** About `fraction` of a disk of `sizeBytes` as scattered 64 KiB writes (seeded: the same seed, the same writes). */
export function plannedChange(seed: string, sizeBytes: number, fraction: number): GuestWrite[] {
  const count = Math.max(1, Math.round((sizeBytes * fraction) / GUEST_WRITE_BYTES));
  const writes: GuestWrite[] = [];
  for (const w of plannedWrites(seed, sizeBytes)) {
    if (writes.length >= count) break;
    writes.push(w);
  }
  return writes;
}

/** Writes about `fraction` of the disk in scattered 64 KiB writes (plannedChange); returns them. */
export async function changeThroughNbd(socketPath: string, exportName: string, fraction: number, seed: string): Promise<GuestWrite[]> {
  const nbd = await NbdClient.connect({ socketPath }, exportName);
  try {
    const writes = plannedChange(seed, nbd.sizeBytes, fraction);
    await Promise.all(writes.map((w) => nbd.write(w.offset, w.data)));
    await nbd.flush();
    return writes;
  } finally {
    await nbd.disconnect();
  }
}

/** Writes one block after another, every `paceMs`, until stopped; `done` counts acknowledged writes. */
export class BackgroundWriter {
  readonly writes: GuestWrite[] = [];
  private stopping = false;
  private running: Promise<void> | undefined;

  private constructor(private readonly nbd: NbdClient) {}

  static async start(socketPath: string, exportName: string, seed: string, paceMs: number): Promise<BackgroundWriter> {
    const writer = new BackgroundWriter(await NbdClient.connect({ socketPath }, exportName));
    writer.running = writer.loop(seed, paceMs);
    return writer;
  }

  /** Acknowledged writes so far. */
  get done(): number {
    return this.writes.length;
  }

  private async loop(seed: string, paceMs: number): Promise<void> {
    for (const w of plannedWrites(seed, this.nbd.sizeBytes)) {
      if (this.stopping) break;
      await this.nbd.write(w.offset, w.data);
      this.writes.push(w);
      await sleep(paceMs);
    }
  }

  /** Stops after the write in flight; returns every acknowledged write, in order. */
  async stop(): Promise<GuestWrite[]> {
    this.stopping = true;
    await this.running;
    await this.nbd.disconnect();
    return this.writes;
  }
}

/**
 * The k for which `restoredPath` is `beforePath` plus the first k of `writes` (checked on every
 * written block, then on the whole image by writing the expected image to `expectedPath`, which
 * the caller compares); throws when no such k exists (a torn, not point-in-time, image).
 */
export async function pointInTimeCut(restoredPath: string, beforePath: string, writes: readonly GuestWrite[], expectedPath: string): Promise<number> {
  const restored = await open(restoredPath, 'r');
  const before = await open(beforePath, 'r');
  const got = Buffer.alloc(GUEST_WRITE_BYTES);
  const old = Buffer.alloc(GUEST_WRITE_BYTES);
  let k = -1;
  try {
    for (let j = 0; j < writes.length; j++) {
      const w = writes[j];
      if (!w) continue;
      got.fill(0);
      old.fill(0);
      await restored.read(got, 0, GUEST_WRITE_BYTES, w.offset);
      await before.read(old, 0, GUEST_WRITE_BYTES, w.offset);
      const isNew = got.equals(w.data);
      const isOld = got.equals(old);
      if (k < 0 && isNew) continue;
      if (k < 0) k = j;
      if (!isOld) throw new Error(`write ${j} at ${w.offset} is ${isNew ? 'in the image although write ' + String(k) + ' is not' : 'neither the old nor the new bytes'}: not one instant`);
    }
  } finally {
    await restored.close();
    await before.close();
  }
  const cut = k < 0 ? writes.length : k;
  await copyFile(beforePath, expectedPath);
  const expected = await open(expectedPath, 'r+');
  try {
    for (const w of writes.slice(0, cut)) await expected.write(w.data, 0, w.data.length, w.offset);
  } finally {
    await expected.close();
  }
  return cut;
}
