/** Where chunk blobs live, by digest. The local filesystem now; an object store later. */
export interface ChunkStore {
  /** Whether the blob is stored durably (a blob still being written does not count). */
  has(digest: Uint8Array): Promise<boolean>;
  /**
   * Stores a checked blob; resolves once it is durable. A blob already present is left alone
   * ('present'); concurrent puts of one digest write it once.
   */
  put(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'>;
  /** The stored blob as it is on disk (unchecked), or undefined when there is none. */
  get(digest: Uint8Array): Promise<Buffer | undefined>;
  /** Moves a damaged blob aside (never deleted, never overwritten in place); no-op when absent. */
  quarantine(digest: Uint8Array, problem: string): Promise<void>;
  /** Every stored digest, in no particular order. */
  list(): AsyncIterable<Buffer>;
}
