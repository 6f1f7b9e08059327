/**
 * The two ends of a site sync, so pull and push run one algorithm (site-sync.ts):
 * - the source lists backups and gives their manifests, indexes and blobs: a peer over gRPC
 *   for a pull, this storage's own datastore for a push;
 * - the sink has or lacks backups, finds missing chunks, stores blobs and imports a backup
 *   once every chunk it references is there: this datastore for a pull, the replica over gRPC
 *   (FindMissing, PutChunks without a session, ImportBackup) for a push.
 */
import type { PeerBackup, PeerChunk, PeerInfo, PeerStore } from './peer-store.js';

/** Where backups come from: a PeerStore's reads (excludeSites: heal from other sites, never these). */
export type SyncSource = Pick<PeerStore, 'site' | 'info' | 'listBackups' | 'getManifest' | 'getIndex' | 'getChunks'>;

/** What the sink knows of one backup the source lists. */
export type SinkBackupState = 'absent' | 'present' | 'pruned';

/** What a sink did with a backup it was asked to import. */
export interface SinkImport {
  readonly imported: boolean;
  /** The sink removed this backup under its own retention: not imported, never to be copied. */
  readonly prunedHere: boolean;
}

/** Counts of one stream of blobs stored at the sink. */
export interface SinkPutStats {
  readonly chunksWritten: number;
  readonly bytesWritten: number;
}

/** Where backups go. */
export interface SyncSink {
  /** The sink's site (where the copies land). */
  readonly site: string;
  /** The sink's datastore identity and key fingerprint. */
  info(): Promise<PeerInfo>;
  /**
   * What the sink knows of each listed backup. `manifestOf` gives a backup's manifest file
   * (from the source), for a sink that can only tell by being offered it (push).
   */
  classify(listed: readonly PeerBackup[], manifestOf: (backupId: string) => Promise<Buffer>): Promise<Map<string, SinkBackupState>>;
  /** Of these digests, those the sink does not hold durably (unique, zero digests never). */
  findMissing(digests: readonly Buffer[]): Promise<Buffer[]>;
  /**
   * Keeps these digests (hex) from the sink's garbage collection until the returned function
   * is called, where the sink can (a local datastore; a remote one relies on its GC grace).
   */
  hold(hexDigests: Iterable<string>): () => void;
  /** Checks and stores blobs as they come; resolves once every one is durable. */
  putChunks(chunks: AsyncIterable<PeerChunk>): Promise<SinkPutStats>;
  /** Adds the backup (same id, same bytes) once every chunk is there; ChunkMissingError otherwise. */
  importBackup(manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<SinkImport>;
  /**
   * The source (datastore `sourceDatastoreId`) lists exactly these backups now: records of
   * backups made there and pruned at the sink that it no longer lists may be forgotten.
   */
  forgetPrunedAbsent(sourceDatastoreId: string, listedIds: ReadonlySet<string>): Promise<void>;
}
