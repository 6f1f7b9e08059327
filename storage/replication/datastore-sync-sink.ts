/**
 * This storage's datastore as the sink of a pull sync: every blob is checked as storage can
 * without the key (BlobChecker) before it is written; chunks of the backup being imported are
 * held against garbage collection from FindMissing to the import.
 */
import { CorruptDataError } from '../../shared/errors.js';
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import type { Datastore } from '../datastore/datastore.js';
import type { PeerBackup, PeerChunk, PeerInfo } from './peer-store.js';
import type { SinkBackupState, SinkImport, SinkPutStats, SyncSink } from './sync-ports.js';

export class DatastoreSyncSink implements SyncSink {
  constructor(
    private readonly datastore: Datastore,
    readonly site: string,
  ) {}

  info(): Promise<PeerInfo> {
    const { id, chunkSizeBytes, keyFingerprint } = this.datastore.info;
    return Promise.resolve({ datastoreId: id, chunkSizeBytes, keyFingerprint });
  }

  classify(listed: readonly PeerBackup[]): Promise<Map<string, SinkBackupState>> {
    const states = new Map<string, SinkBackupState>();
    for (const b of listed) {
      states.set(b.backupId, this.datastore.catalog.get(b.backupId) ? 'present' : this.datastore.prunedLog.has(b.backupId) ? 'pruned' : 'absent');
    }
    return Promise.resolve(states);
  }

  findMissing(digests: readonly Buffer[]): Promise<Buffer[]> {
    return this.datastore.findMissing(digests);
  }

  hold(hexDigests: Iterable<string>): () => void {
    const hold = this.datastore.holdChunks();
    for (const hex of hexDigests) hold.add(hex);
    return () => this.datastore.releaseHold(hold);
  }

  async putChunks(chunks: AsyncIterable<PeerChunk>): Promise<SinkPutStats> {
    // Checked and written several at a time (ChunkIntake's pool), as an agent's upload is.
    const intake = this.datastore.chunkIntake();
    try {
      for await (const { digest, blob } of chunks) {
        if (digest.length !== DIGEST_BYTES) throw new CorruptDataError('chunk from a sync source', `digest of ${digest.length} bytes`);
        await intake.accept(digest, blob);
      }
    } catch (err) {
      // Let the writes already started end (they count at the next FindMissing), then fail.
      await intake.finish().catch(() => undefined);
      throw err;
    }
    const stats = await intake.finish();
    return { chunksWritten: stats.chunksWritten, bytesWritten: stats.bytesWritten };
  }

  async importBackup(manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<SinkImport> {
    const { imported, prunedHere } = await this.datastore.importBackup(manifestFile, indexFiles);
    return { imported, prunedHere };
  }

  async forgetPrunedAbsent(sourceDatastoreId: string, listedIds: ReadonlySet<string>): Promise<void> {
    await this.datastore.prunedLog.forgetAbsent(sourceDatastoreId, listedIds);
  }
}
