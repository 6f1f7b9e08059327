import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const BLOCK_BYTES = 1024 * 1024;
const zeros = Buffer.alloc(BLOCK_BYTES);

/**
 * A deterministic byte stream (AES-128-CTR keyed by a seed): the same seed always yields the
 * same bytes, at memory speed. For demo images, tests and simulated disks; never for secrets.
 */
export class SeededBytes {
  private readonly cipher: Cipher;

  constructor(seed: string | number) {
    const key = createHash('sha256').update(String(seed)).digest();
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  /** The next `n` bytes of the stream. */
  next(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; off += BLOCK_BYTES) {
      const len = Math.min(BLOCK_BYTES, n - off);
      this.cipher.update(zeros.subarray(0, len)).copy(out, off);
    }
    return out;
  }

  /** A uniform-enough integer in [0, max) (max well below 2^32). */
  int(max: number): number {
    return this.next(4).readUInt32LE(0) % max;
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    return this.next(4).readUInt32LE(0);
  }
}
