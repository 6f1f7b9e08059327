/** A stored blob's file facts, as garbage collection needs them. */
export interface StoredChunkInfo {
  /** Last modification, in the store's own time (file mtime for the filesystem). */
  readonly mtimeMs: number;
  readonly sizeBytes: number;
}

/** Where chunk blobs live, by digest. The local filesystem now; an object store later. */
export interface ChunkStore {
  /** Whether the blob is stored durably (a blob being written or removed does not count). */
  has(digest: Uint8Array): Promise<boolean>;
  /**
   * Stores a checked blob; resolves once it is durable. A blob already present is left alone
   * ('present'); concurrent puts of one digest write it once; a put waits for a removal of the
   * same digest to end, then writes.
   */
  put(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'>;
  /** The stored blob as it is on disk (unchecked), or undefined when there is none. */
  get(digest: Uint8Array): Promise<Buffer | undefined>;
  /** Moves a damaged blob aside (never deleted, never overwritten in place); no-op when absent. */
  quarantine(digest: Uint8Array, problem: string): Promise<void>;
  /** Every stored digest, in no particular order. */
  list(): AsyncIterable<Buffer>;
  /**
   * Garbage collection: deletes the blob if `decide` (called while no put of that digest runs,
   * so no put can report it present meanwhile) returns true. Resolves true when it was deleted;
   * false when kept, absent, or busy with a put.
   */
  remove(digest: Uint8Array, decide: (info: StoredChunkInfo) => boolean): Promise<boolean>;
  /** The store's current time on the clock its mtimes use (garbage collection's grace period). */
  clockMs(): Promise<number>;
}
