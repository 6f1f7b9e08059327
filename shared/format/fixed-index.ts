/**
 * Fixed index (.fidx): the ordered chunk digests of one disk.
 *
 *   0   8  magic "BWKFIDX\0"
 *   8   4  format version (1), u32 LE
 *  12   4  chunk size in bytes, u32 LE
 *  16   8  disk size in bytes, u64 LE
 *  24   8  chunk count, u64 LE (= ceil(disk size / chunk size))
 *  32  32  SHA-256 of the body
 *  64  32  SHA-256 of bytes 0..64
 *  96   …  body: chunk count x 32-byte digests; all-zero = a chunk of zeros
 *
 * 32 MiB per TiB at 1 MiB chunks. The manifest records the SHA-256 of the whole file as well,
 * so an index swapped for another valid one is caught too.
 */
import { createHash } from 'node:crypto';
import { CorruptDataError } from '../errors.js';
import { DIGEST_BYTES } from './chunk-digest.js';

export const FIDX_MAGIC = Buffer.from('BWKFIDX\0', 'latin1');
export const FIDX_VERSION = 1;
export const FIDX_HEADER_BYTES = 96;

/** A decoded fixed index. */
export interface FixedIndex {
  readonly chunkSizeBytes: number;
  readonly diskSizeBytes: number;
  readonly chunkCount: number;
  /** chunkCount x 32 bytes. */
  readonly digests: Buffer;
}

/** Chunks needed to cover a disk. */
export function chunkCountFor(diskSizeBytes: number, chunkSizeBytes: number): number {
  return Math.ceil(diskSizeBytes / chunkSizeBytes);
}

/** The digest of chunk i (a view, not a copy). */
export function digestAt(index: FixedIndex, i: number): Buffer {
  if (i < 0 || i >= index.chunkCount) throw new RangeError(`chunk ${i} outside 0..${index.chunkCount - 1}`);
  return index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
}

/** Builds the header of an index (the body follows it). */
export function encodeFixedIndexHeader(chunkSizeBytes: number, diskSizeBytes: number, body: Uint8Array): Buffer {
  const chunkCount = chunkCountFor(diskSizeBytes, chunkSizeBytes);
  if (body.length !== chunkCount * DIGEST_BYTES) {
    throw new RangeError(`index body has ${body.length} bytes, ${chunkCount} chunks need ${chunkCount * DIGEST_BYTES}`);
  }
  const header = Buffer.alloc(FIDX_HEADER_BYTES);
  FIDX_MAGIC.copy(header, 0);
  header.writeUInt32LE(FIDX_VERSION, 8);
  header.writeUInt32LE(chunkSizeBytes, 12);
  header.writeBigUInt64LE(BigInt(diskSizeBytes), 16);
  header.writeBigUInt64LE(BigInt(chunkCount), 24);
  createHash('sha256').update(body).digest().copy(header, 32);
  createHash('sha256').update(header.subarray(0, 64)).digest().copy(header, 64);
  return header;
}

/** Builds a whole index file. */
export function encodeFixedIndex(chunkSizeBytes: number, diskSizeBytes: number, digests: Uint8Array): Buffer {
  return Buffer.concat([encodeFixedIndexHeader(chunkSizeBytes, diskSizeBytes, digests), digests]);
}

/** Checks and decodes an index file; any damage is a CorruptDataError naming `what`. */
export function decodeFixedIndex(file: Uint8Array, what = 'index'): FixedIndex {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < FIDX_HEADER_BYTES) throw new CorruptDataError(what, `truncated: ${buf.length} bytes`);
  if (!buf.subarray(0, 8).equals(FIDX_MAGIC)) throw new CorruptDataError(what, 'bad magic');
  const headerSum = createHash('sha256').update(buf.subarray(0, 64)).digest();
  if (!headerSum.equals(buf.subarray(64, 96))) throw new CorruptDataError(what, 'header checksum mismatch');
  const version = buf.readUInt32LE(8);
  if (version !== FIDX_VERSION) throw new CorruptDataError(what, `unknown format version ${version}`);
  const chunkSizeBytes = buf.readUInt32LE(12);
  const diskSizeBytes = Number(buf.readBigUInt64LE(16));
  const chunkCount = Number(buf.readBigUInt64LE(24));
  if (chunkSizeBytes === 0 || chunkCount !== chunkCountFor(diskSizeBytes, chunkSizeBytes)) {
    throw new CorruptDataError(what, 'chunk count does not match disk and chunk size');
  }
  const body = buf.subarray(FIDX_HEADER_BYTES);
  if (body.length !== chunkCount * DIGEST_BYTES) {
    throw new CorruptDataError(what, `body has ${body.length} bytes, expected ${chunkCount * DIGEST_BYTES}`);
  }
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(32, 64))) {
    throw new CorruptDataError(what, 'body checksum mismatch');
  }
  return { chunkSizeBytes, diskSizeBytes, chunkCount, digests: body };
}

/** SHA-256 hex of a whole index file, as recorded in the manifest. */
export function fixedIndexFileSha256(file: Uint8Array): string {
  return createHash('sha256').update(file).digest('hex');
}
