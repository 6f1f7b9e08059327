import type { Clock } from '../../shared/clock.js';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import type { Logger } from '../../shared/log.js';
import type { BlockStore } from './block-store.js';
import type { OpenChunkProcessor } from './chunk-processor.js';

/** What every job that moves chunks between a disk and a storage needs (backup, restore). */
export interface DataPathDeps {
  readonly store: BlockStore;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** The datastore key the agent holds, or null; it must be the datastore's. */
  readonly keys: DatastoreKeys | null;
  /** Opens the chunk workers (digest, encode, decode) for this job; closed when it ends. */
  readonly openProcessor: OpenChunkProcessor;
  progress(phase: string, doneBytes: number, totalBytes: number): void;
}
