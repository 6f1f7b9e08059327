/**
 * ChunkProcessor: the CPU work of the data path — zero check and digest, blob encoding
 * (compression, encryption) and decoding — for one job, under the datastore's key or none
 * (shared/crypto/chunk-codec.ts does the work). `WorkerChunkProcessor` spreads it over worker
 * threads; `InlineChunkProcessor` runs it on the calling thread.
 *
 * Ownership: a buffer handed to a method belongs to the processor from then on (a worker pool
 * moves its memory to another thread, leaving the caller's view empty); use what comes back.
 */
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';

/** A chunk's digest, or the zero marker; `data` is the chunk, handed back to the caller. */
export interface ChunkDescription {
  readonly data: Buffer;
  /** The datastore's digest of the data (keyed when encrypted); ZERO_DIGEST when `zero`. */
  readonly digest: Buffer;
  /** Every byte is zero: never stored, never sent. */
  readonly zero: boolean;
}

export interface ChunkProcessor {
  /** Checks for zeros and digests the chunk. Takes ownership of `data`. */
  describe(data: Buffer): Promise<ChunkDescription>;
  /**
   * The blob to store for a chunk (compressed; sealed under the key). Takes ownership of `data`
   * and hands it back beside the blob, for reuse.
   */
  encode(data: Buffer, digest: Buffer): Promise<{ blob: Buffer; data: Buffer }>;
  /** A blob's plaintext, fully checked (CRC, GCM tag, digest); CorruptDataError or BlobKeyError. */
  decode(blob: Buffer, digest: Buffer): Promise<Buffer>;
  /** Stops the processor; pending calls fail. Idempotent. */
  close(): Promise<void>;
}

/** Opens a processor for one job, under the datastore key the agent holds (or none). */
export type OpenChunkProcessor = (keys: DatastoreKeys | null) => ChunkProcessor;
