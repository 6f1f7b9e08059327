/**
 * A ChunkProcessor on the calling thread: the simple path (tests, and `chunkWorkers: 0`). The
 * worker pool must produce exactly what this one produces. It holds no memory of its own.
 */
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { isZeroChunk, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import type { ChunkDescription, ChunkProcessor } from '../ports/chunk-processor.js';

export class InlineChunkProcessor implements ChunkProcessor {
  private readonly codec: ChunkCodec;
  private closed = false;

  constructor(keys: DatastoreKeys | null) {
    this.codec = new ChunkCodec(keys);
  }

  buffer(length: number): Buffer {
    return Buffer.allocUnsafe(length);
  }

  describe(data: Buffer): Promise<ChunkDescription> {
    return this.run(() => (isZeroChunk(data) ? { data, digest: ZERO_DIGEST, zero: true } : { data, digest: this.codec.digest(data), zero: false }));
  }

  encode(data: Buffer, digest: Buffer): Promise<Buffer> {
    return this.run(() => this.codec.encode(data, digest));
  }

  decode(blob: Buffer, digest: Buffer): Promise<Buffer> {
    return this.run(() => this.codec.decode(blob, digest));
  }

  recycle(): void {
    // Nothing is pooled: the buffers are the garbage collector's.
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new Error('chunk processor closed');
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
