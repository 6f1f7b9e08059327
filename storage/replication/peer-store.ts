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

/** Another storage, read-only: the source of a sync, or a peer that can supply good chunks. */
export interface PeerStore {
  /** The peer's site, for reports. */
  readonly site: string;
  /** Its datastore's identity and key fingerprint. */
  info(): Promise<PeerInfo>;
  /** Its committed backups, oldest first. */
  listBackups(): Promise<PeerBackup[]>;
  /** A manifest file, byte for byte. */
  getManifest(backupId: string): Promise<Buffer>;
  /** The .fidx file of one disk, byte for byte. */
  getIndex(backupId: string, disk: string): Promise<Buffer>;
  /** The blobs of the given digests, in order; fails when the peer lacks or finds damaged any of them. */
  getChunks(digests: readonly Buffer[]): AsyncIterable<PeerChunk>;
  /** Closes the connection. */
  close(): void;
}
