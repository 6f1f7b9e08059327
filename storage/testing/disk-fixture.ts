/**
 * Seeded disk images and their chunks, for the storage tests only: realistic content (text,
 * random bytes, repeated blocks, zero regions) that is the same on every run.
 */
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { DIGEST_BYTES, ZERO_DIGEST, digestHex, isZeroChunk } from '../../shared/format/chunk-digest.js';
import type { FixedIndex } from '../../shared/format/fixed-index.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';

/** A disk image of `sizeBytes` made of 64 KiB regions of text, random data, a repeated block, or zeros. */
export function makeDiskImage(sizeBytes: number, seed: number): Buffer {
  const rng = new SeededBytes(seed);
  const image = Buffer.alloc(sizeBytes);
  const region = 64 * 1024;
  const repeated = Buffer.alloc(region, 0x5a);
  for (let off = 0; off < sizeBytes; off += region) {
    const end = Math.min(sizeBytes, off + region);
    const kind = rng.int(4);
    if (kind === 0) {
      image.write(`line ${off} of seed ${seed}: the quick brown fox jumps over the lazy dog\n`.repeat(1200), off, end - off, 'latin1');
    } else if (kind === 1) {
      rng.next(end - off).copy(image, off);
    } else if (kind === 2) {
      repeated.copy(image, off, 0, end - off);
    }
  }
  return image;
}

/** A disk cut into chunks: the index body and the blob of each distinct non-zero chunk. */
export interface ChunkedDisk {
  readonly digests: Buffer;
  readonly chunkCount: number;
  readonly blobs: Map<string, { digest: Buffer; blob: Buffer }>;
}

const plainCodec = new ChunkCodec(null);

/** Cuts a disk into chunks; with a keyed codec, digests are keyed and blobs encrypted. */
export function chunkDisk(image: Buffer, chunkSizeBytes: number, codec: ChunkCodec = plainCodec): ChunkedDisk {
  const chunkCount = Math.ceil(image.length / chunkSizeBytes);
  const digests = Buffer.alloc(chunkCount * DIGEST_BYTES);
  const blobs = new Map<string, { digest: Buffer; blob: Buffer }>();
  for (let i = 0; i < chunkCount; i++) {
    const chunk = image.subarray(i * chunkSizeBytes, (i + 1) * chunkSizeBytes);
    if (isZeroChunk(chunk)) {
      ZERO_DIGEST.copy(digests, i * DIGEST_BYTES);
      continue;
    }
    const digest = codec.digest(chunk);
    digest.copy(digests, i * DIGEST_BYTES);
    if (!blobs.has(digestHex(digest))) blobs.set(digestHex(digest), { digest, blob: codec.encode(chunk, digest) });
  }
  return { digests, chunkCount, blobs };
}

/** Rebuilds a disk image from its index, fetching each blob with `blobOf` and checking it fully with `codec`. */
export async function rebuildDisk(
  index: FixedIndex,
  blobOf: (digest: Buffer) => Promise<Buffer>,
  codec: ChunkCodec = plainCodec,
): Promise<Buffer> {
  const image = Buffer.alloc(index.diskSizeBytes);
  for (let i = 0; i < index.chunkCount; i++) {
    const digest = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
    if (digest.equals(ZERO_DIGEST)) continue;
    codec.decode(await blobOf(Buffer.from(digest)), digest).copy(image, i * index.chunkSizeBytes);
  }
  return image;
}
