/**
 * ChunkProcessor: the CPU work of the data path — zero check and digest, blob encoding
 * (compression, encryption) and decoding — for one job, under the datastore's key or none
 * (shared/crypto/chunk-codec.ts does the work). `WorkerChunkProcessor` spreads it over worker
 * threads; `InlineChunkProcessor` runs it on the calling thread.
 *
 * Memory: a processor may hold chunk memory of its own (the worker pool: fixed slots shared with
 * its threads, so no chunk ever allocates or moves memory between threads). `buffer()` hands out
 * such memory; `describe`, `encode` and `decode` return buffers that may live in it (a blob is
 * written over its plaintext, a plaintext over its blob); `recycle()` gives it back. A buffer
 * passed to `encode` or `decode` must not be used afterwards: use what comes back.
 */
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';

/** A chunk's digest, or the zero marker; `data` is the chunk's bytes to use from now on. */
export interface ChunkDescription {
  /** The chunk: the caller's buffer, or a copy in the processor's memory (recycle it). */
  readonly data: Buffer;
  /** The datastore's digest of the data (keyed when encrypted); ZERO_DIGEST when `zero`. */
  readonly digest: Buffer;
  /** Every byte is zero: never stored, never sent. */
  readonly zero: boolean;
}

export interface ChunkProcessor {
  /** Memory for a chunk of `length` bytes (at most the job's chunk size); recycle it when done. */
  buffer(length: number): Buffer;
  /** Checks for zeros and digests the chunk. */
  describe(data: Buffer): Promise<ChunkDescription>;
  /** The blob to store for a chunk (compressed; sealed under the key), possibly in `data`'s memory. */
  encode(data: Buffer, digest: Buffer): Promise<Buffer>;
  /**
   * A blob's plaintext, fully checked (CRC, GCM tag, digest), possibly in the blob's memory;
   * CorruptDataError or BlobKeyError.
   */
  decode(blob: Buffer, digest: Buffer): Promise<Buffer>;
  /** Gives back memory from `buffer()` or a result of the calls above; any other buffer is ignored. */
  recycle(buf: Buffer): void;
  /** Stops the processor; pending calls fail. Idempotent. */
  close(): Promise<void>;
}

/** What a job tells the processor it opens. */
export interface ChunkProcessorOptions {
  /** The job's chunk size: the largest plaintext the processor will see. */
  readonly chunkSizeBytes: number;
}

/** Opens a processor for one job, under the datastore key the agent holds (or none). */
export type OpenChunkProcessor = (keys: DatastoreKeys | null, options: ChunkProcessorOptions) => ChunkProcessor;
