import { chunkDigest, isZeroChunk, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import { chunkCountFor } from '../../shared/format/fixed-index.js';
import type { BackupDisk } from '../hypervisors/hypervisor.js';

/** One fixed-size chunk of a disk, aligned to the disk's start; the last one may be short. */
export interface DiskChunk {
  readonly index: number;
  readonly offset: number;
  readonly data: Buffer;
  /** SHA-256 of the data, or ZERO_DIGEST for a chunk of zeros. */
  readonly digest: Buffer;
  readonly zero: boolean;
}

/** The length of chunk `index` of a disk of `sizeBytes`. */
export function chunkLengthAt(sizeBytes: number, chunkSizeBytes: number, index: number): number {
  return Math.min(chunkSizeBytes, sizeBytes - index * chunkSizeBytes);
}

/** A chunk's digest, or ZERO_DIGEST (never stored, never sent) when every byte is zero. */
export function describeChunk(data: Uint8Array): { digest: Buffer; zero: boolean } {
  if (isZeroChunk(data)) return { digest: ZERO_DIGEST, zero: true };
  return { digest: chunkDigest(data), zero: false };
}

/**
 * Reads a disk as sequential chunks, one read ahead so the disk stays busy while the caller
 * hashes and uploads: at most two chunks are held here whatever the disk size.
 */
export async function* readChunks(disk: BackupDisk, chunkSizeBytes: number): AsyncGenerator<DiskChunk> {
  const count = chunkCountFor(disk.sizeBytes, chunkSizeBytes);
  const readAt = (i: number): Promise<Buffer> => {
    const read = disk.read(i * chunkSizeBytes, chunkLengthAt(disk.sizeBytes, chunkSizeBytes, i));
    // Marked handled at once: a read-ahead may fail while the caller is busy; it is awaited below.
    read.catch(() => undefined);
    return read;
  };
  let next: Promise<Buffer> | undefined = count > 0 ? readAt(0) : undefined;
  try {
    for (let i = 0; i < count && next; i++) {
      const data: Buffer = await next;
      next = i + 1 < count ? readAt(i + 1) : undefined;
      yield { index: i, offset: i * chunkSizeBytes, data, ...describeChunk(data) };
    }
  } finally {
    // The caller stopped early (or a read failed): settle the read in flight before the view closes.
    await next?.catch(() => undefined);
  }
}
