/**
 * This storage's datastore as the source of a push sync. Blobs are read a few ahead of the one
 * handed on, each checked for shape (structure, CRC, kind) as GetChunks checks what it serves;
 * a reader that heals damage from other peers (the repair service) can stand in for the plain
 * one, asked never to heal from the sites in `excludeSites` (the replica being pushed to).
 */
import type { Datastore } from '../datastore/datastore.js';
import type { PeerBackup, PeerChunk, PeerInfo, PeerReadOptions } from './peer-store.js';
import type { SyncSource } from './sync-ports.js';

/** Reads one blob, checked; may heal it from a peer first, never from `excludeSites`. */
export type ChunkReader = (digest: Buffer, excludeSites: readonly string[]) => Promise<Buffer>;

/** Blobs read ahead of the one being handed on. */
const READ_AHEAD = 4;

export class DatastoreSyncSource implements SyncSource {
  private readonly readChunk: ChunkReader;

  constructor(
    private readonly datastore: Datastore,
    readonly site: string,
    readChunk?: ChunkReader,
  ) {
    this.readChunk = readChunk ?? ((digest) => datastore.readBlobChecked(digest));
  }

  info(): Promise<PeerInfo> {
    const { id, chunkSizeBytes, keyFingerprint } = this.datastore.info;
    return Promise.resolve({ datastoreId: id, chunkSizeBytes, keyFingerprint });
  }

  listBackups(): Promise<PeerBackup[]> {
    return Promise.resolve(this.datastore.catalog.list().map((m) => ({ backupId: m.backupId, vm: m.vm })));
  }

  getManifest(backupId: string): Promise<Buffer> {
    return this.datastore.readManifestFile(backupId);
  }

  getIndex(backupId: string, disk: string): Promise<Buffer> {
    return this.datastore.readIndexFile(backupId, disk);
  }

  async *getChunks(digests: readonly Buffer[], options: PeerReadOptions = {}): AsyncIterable<PeerChunk> {
    const excludeSites = options.excludeSites ?? [];
    type Read = { digest: Buffer; blob: Buffer } | { err: unknown };
    const read = (digest: Buffer): Promise<Read> =>
      this.readChunk(digest, excludeSites).then(
        (blob) => ({ digest, blob }),
        (err: unknown) => ({ err }),
      );
    const window: Promise<Read>[] = [];
    let next = 0;
    for (;;) {
      while (window.length < READ_AHEAD && next < digests.length) {
        const d = digests[next++];
        if (d) window.push(read(d));
      }
      const result = await window.shift();
      if (!result) return;
      if ('err' in result) throw result.err;
      yield result;
    }
  }
}
