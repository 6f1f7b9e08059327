import { createHash } from 'node:crypto';

/** Bytes in a chunk digest (SHA-256). */
export const DIGEST_BYTES = 32;

/** The digest that stands for a chunk of zeros in an index: never stored, never sent. */
export const ZERO_DIGEST: Buffer = Buffer.alloc(DIGEST_BYTES);

const zeroBlock = Buffer.alloc(4 * 1024 * 1024);

/** Whether every byte of the chunk is zero (memcmp against a zero block, no allocation). */
export function isZeroChunk(chunk: Uint8Array): boolean {
  let offset = 0;
  while (offset < chunk.length) {
    const n = Math.min(zeroBlock.length, chunk.length - offset);
    if (Buffer.compare(chunk.subarray(offset, offset + n), zeroBlock.subarray(0, n)) !== 0) return false;
    offset += n;
  }
  return true;
}

/** The digest of a chunk's plaintext: SHA-256 (keyed HMAC comes with encryption). */
export function chunkDigest(plaintext: Uint8Array): Buffer {
  return createHash('sha256').update(plaintext).digest();
}

/** Whether a digest is the zero-chunk marker. */
export function isZeroDigest(digest: Uint8Array): boolean {
  return Buffer.compare(digest, ZERO_DIGEST) === 0;
}

/** A digest as 64 lower-case hex characters (file names, logs, reports). */
export function digestHex(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
}

/** Parses 64 hex characters into a digest; throws on anything else. */
export function digestFromHex(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`not a digest: ${hex}`);
  return Buffer.from(hex, 'hex');
}
