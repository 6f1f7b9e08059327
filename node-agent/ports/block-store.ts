/**
 * BlockStore: what the agent needs of a storage daemon's data plane (proto/bulwark/v1/blockstore.proto).
 * Backup and restore code talk to this port only; `GrpcBlockStore` is the real adapter and
 * `MemoryBlockStore` the in-memory one for tests. Blobs, indexes and manifests cross it in their
 * on-disk formats (shared/format/), so the caller checks what it receives.
 */
import type { ViewConsistency } from '../hypervisors/hypervisor.js';

/** The datastore's identity and the chunk size every writer must use. */
export interface DatastoreInfo {
  readonly datastoreId: string;
  readonly formatVersion: number;
  readonly chunkSizeBytes: number;
  readonly site: string;
  /** Fingerprint of the key its chunks are encrypted with; null: an unencrypted datastore. */
  readonly keyFingerprint: string | null;
}

/** A disk of a backup being opened. */
export interface DiskSpec {
  readonly name: string;
  readonly sizeBytes: number;
}

export interface BeginBackupRequest {
  readonly vm: string;
  readonly disks: readonly DiskSpec[];
  /** The controller's job id and attempt: the idempotency key of the upload. */
  readonly jobId: string;
  readonly attempt: number;
  readonly parentBackupId: string | null;
  readonly mode: 'full' | 'incremental';
  readonly changeTracking: string;
  readonly changeTrackingNote: string | null;
  /** The hypervisor checkpoint this backup starts, for the manifest; null: none. */
  readonly checkpoint?: string | null;
  /** What the backup's instant is consistent with; absent: crash, no note. */
  readonly consistency?: ViewConsistency;
  /** The VM's definition for the manifest; absent: unknown. */
  readonly vmDefinition?: { readonly hypervisor: string; readonly definition: Readonly<Record<string, unknown>> };
}

export interface BeginBackupResponse {
  readonly sessionId: string;
  readonly chunkSizeBytes: number;
  /** Set when this job attempt already committed: report that backup and stop. */
  readonly committedBackupId: string | null;
}

/** A committed backup as storage describes it. */
export interface BackupSummary {
  readonly backupId: string;
  readonly vm: string;
  readonly createdAt: string;
  readonly mode: string;
  readonly parentBackupId: string | null;
  readonly disks: readonly { name: string; sizeBytes: number; chunkCount: number; zeroChunks: number }[];
  readonly jobId: string;
  readonly attempt: number;
  readonly chunkSizeBytes: number;
  readonly changeTracking: string;
}

/** What storage reports once every chunk of an upload stream is durable. */
export interface PutChunksTotals {
  readonly chunksWritten: number;
  readonly chunksAlreadyPresent: number;
  readonly bytesWritten: number;
}

/** One upload stream of finished blobs for a session. */
export interface ChunkWriter {
  /**
   * Queues a blob; resolves when the stream can take more (backpressure). The blob is copied by
   * the time the promise settles: its memory may be reused then.
   */
  write(digest: Buffer, blob: Buffer): Promise<void>;
  /** Ends the stream; resolves once storage says every chunk in it is durable. */
  close(): Promise<PutChunksTotals>;
  /** Cancels the stream (after a failure); what was sent may or may not be stored. */
  abort(): void;
}

/** A stored blob as served by storage (still to be checked by the caller). */
export interface FetchedChunk {
  readonly digest: Buffer;
  readonly blob: Buffer;
}

export interface BlockStore {
  /** The datastore's id, site and chunk size. */
  info(): Promise<DatastoreInfo>;
  /**
   * Of `digests`, those the store does not hold durably (at most 16384 per call). With a session,
   * storage holds the present ones for it, so garbage collection cannot sweep them before commit.
   */
  findMissing(digests: readonly Buffer[], sessionId?: string): Promise<Buffer[]>;
  /** Opens one upload stream for a session. */
  putChunks(sessionId: string): ChunkWriter;
  /** Streams the blobs of `digests` (each checked by storage before it is sent). */
  getChunks(digests: readonly Buffer[]): AsyncIterable<FetchedChunk>;
  /** Opens an upload session, or names the backup this job attempt already committed. */
  beginBackup(request: BeginBackupRequest): Promise<BeginBackupResponse>;
  /** Uploads the whole digest list of one disk of a session (concatenated 32-byte digests). */
  putIndex(sessionId: string, disk: string, digests: Buffer): Promise<{ chunkCount: number }>;
  /**
   * Writes the manifest after storage checked every referenced chunk is present. `contentHmac`
   * (the key holder's HMAC over the backup's content) is recorded in it when given.
   */
  commitBackup(sessionId: string, stats: Readonly<Record<string, number | string>>, contentHmac?: string | null): Promise<BackupSummary>;
  /** Drops an open session (chunks stay: they are content-addressed). */
  abortBackup(sessionId: string): Promise<void>;
  /** Committed backups, of one VM or of all. */
  listBackups(vm?: string): Promise<BackupSummary[]>;
  /** The manifest file of a backup, byte for byte as stored. */
  getManifest(backupId: string): Promise<Buffer>;
  /** The fixed index file of one disk of a backup, byte for byte as stored. */
  getIndex(backupId: string, disk: string): Promise<Buffer>;
  /** Releases the connection. */
  close(): void;
}
