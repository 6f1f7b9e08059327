/**
 * What a backup reads of each disk. Without change tracking it reads every chunk. With a driver
 * that knows the allocated ranges (a full backup) it reads only chunks that touch one: the rest
 * are zeros. With dirty extents since the base checkpoint (a dirty-bitmap incremental) it reads
 * only chunks that touch a dirty range and takes every other digest from the base backup's index.
 */
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { chunkCountFor } from '../../shared/format/fixed-index.js';
import type { BackupDisk, DiskExtent } from '../hypervisors/hypervisor.js';
import { chunkLengthAt } from './disk-chunker.js';

export interface DiskPlan {
  readonly disk: BackupDisk;
  /** The index to start from (the base backup's digests), or null: every chunk starts as zeros. */
  readonly baseDigests: Buffer | null;
  /** Per chunk position, 1 when the chunk is read; null: every chunk is read. */
  readonly reads: Uint8Array | null;
  /** Bytes the plan reads. */
  readonly bytesToRead: number;
}

/** Reads every chunk. */
export function readEverything(disk: BackupDisk): DiskPlan {
  return { disk, baseDigests: null, reads: null, bytesToRead: disk.sizeBytes };
}

/**
 * Reads only the chunks that touch `extents`; the others keep `baseDigests` (or are zeros when
 * there is no base). Extents past the disk end are clamped; a malformed extent is an error.
 */
export async function readExtents(
  disk: BackupDisk,
  chunkSizeBytes: number,
  extents: AsyncIterable<DiskExtent>,
  baseDigests: Buffer | null,
): Promise<DiskPlan> {
  const count = chunkCountFor(disk.sizeBytes, chunkSizeBytes);
  if (baseDigests && baseDigests.length !== count * DIGEST_BYTES) {
    throw new RangeError(`base index of disk ${disk.name} has ${baseDigests.length / DIGEST_BYTES} chunks, the disk ${count}`);
  }
  const reads = new Uint8Array(count);
  for await (const extent of extents) {
    if (!Number.isSafeInteger(extent.offset) || !Number.isSafeInteger(extent.length) || extent.offset < 0 || extent.length < 0) {
      throw new RangeError(`disk ${disk.name}: bad extent ${extent.offset}+${extent.length}`);
    }
    const end = Math.min(disk.sizeBytes, extent.offset + extent.length);
    if (end <= extent.offset) continue;
    const last = Math.floor((end - 1) / chunkSizeBytes);
    for (let i = Math.floor(extent.offset / chunkSizeBytes); i <= last; i++) reads[i] = 1;
  }
  let bytesToRead = 0;
  for (let i = 0; i < count; i++) if (reads[i]) bytesToRead += chunkLengthAt(disk.sizeBytes, chunkSizeBytes, i);
  return { disk, baseDigests, reads, bytesToRead };
}
