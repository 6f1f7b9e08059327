/** A blob as another storage sent it: unchecked until the receiver checks it. */
export interface PeerChunk {
  readonly digest: Buffer;
  readonly blob: Buffer;
}

/** A backup another storage lists. */
export interface PeerBackup {
  readonly backupId: string;
  readonly vm: string;
}

/** A peer datastore's identity. */
export interface PeerInfo {
  readonly datastoreId: string;
  readonly chunkSizeBytes: number;
  /** Null: unencrypted. */
  readonly keyFingerprint: string | null;
}

/**
 * What a peer may do before it answers: heal a damaged copy of its own from other peers, but
 * never from `excludeSites` (the asker passes its own site, so two sites never ask each other
 * in a loop).
 */
export interface PeerReadOptions {
  readonly excludeSites?: readonly string[];
  /**
   * Wait up to this long for the link to the peer to come up rather than fail at once while it is
   * reconnecting (verify, scrub: not in a hurry); absent or 0: fail fast (a reader is waiting).
   */
  readonly waitForReadyMs?: number;
}

/** Another storage, read-only: the source of a sync, or a peer that can supply good chunks. */
export interface PeerStore {
  /** The peer's site, for reports. */
  readonly site: string;
  /** Its datastore's identity and key fingerprint. */
  info(): Promise<PeerInfo>;
  /** Its committed backups, oldest first. */
  listBackups(): Promise<PeerBackup[]>;
  /** A manifest file, byte for byte. */
  getManifest(backupId: string, options?: PeerReadOptions): Promise<Buffer>;
  /** The .fidx file of one disk, byte for byte. */
  getIndex(backupId: string, disk: string, options?: PeerReadOptions): Promise<Buffer>;
  /** The blobs of the given digests, in order; fails when the peer lacks (and cannot heal) any of them. */
  getChunks(digests: readonly Buffer[], options?: PeerReadOptions): AsyncIterable<PeerChunk>;
  /** Closes the connection. */
  close(): void;
}
