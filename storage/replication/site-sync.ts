/**
 * Site sync, pulled by the replica: for every backup the source has and this datastore lacks,
 * fetch its manifest and indexes (each checked against the manifest), ask locally which chunks
 * are missing, fetch only those (each checked against its digest), write them, then import the
 * backup: indexes, then the manifest LAST, with the same backup id and bytes. Content
 * addressing makes a re-run, or a run after a crash, send nothing twice. A source whose key
 * fingerprint differs from this datastore's is refused before anything is copied; blobs are
 * checked as storage can without a key (BlobChecker). While a backup is imported, its chunks
 * are held so garbage collection cannot sweep them between the copy and the manifest.
 */
import type { Clock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, fixedIndexFileSha256 } from '../../shared/format/fixed-index.js';
import { decodeManifest, type Manifest } from '../../shared/format/manifest.js';
import type { Logger } from '../../shared/log.js';
import type { BackupRecord, SyncResult } from '../../shared/messages/results.js';
import type { Datastore } from '../datastore/datastore.js';
import { TaskPool } from '../datastore/task-pool.js';
import type { PeerStore } from './peer-store.js';

export interface SiteSyncOptions {
  readonly datastore: Datastore;
  /** This storage's site. */
  readonly site: string;
  readonly source: PeerStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly progress?: (phase: string, doneBytes: number, totalBytes: number) => void;
  /** Digests per GetChunks call. */
  readonly batchSize?: number;
  /** GetChunks calls in flight. */
  readonly concurrency?: number;
}

/** A backup as the catalog records it, at a given site. */
export function backupRecord(m: Manifest, site: string): BackupRecord {
  return {
    backupId: m.backupId,
    vm: m.vm,
    site,
    createdAt: m.createdAt,
    mode: m.mode,
    parentBackupId: m.parentBackupId,
    jobId: m.jobId,
    sizeBytes: m.disks.reduce((sum, d) => sum + d.sizeBytes, 0),
    disks: m.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
  };
}

/** Pulls every backup the source has and this datastore lacks. */
export async function runSiteSync(opts: SiteSyncOptions): Promise<SyncResult> {
  const { datastore, source, clock, log } = opts;
  const startedMs = clock.nowMs();
  const result: SyncResult = {
    sourceSite: source.site,
    site: opts.site,
    copied: [],
    backupsAlreadyPresent: 0,
    chunksCopied: 0,
    bytesCopied: 0,
    durationMs: 0,
  };
  const sourceInfo = await source.info();
  if (sourceInfo.keyFingerprint !== datastore.info.keyFingerprint) {
    throw new PreconditionError(
      `sync source ${source.site} has key fingerprint ${sourceInfo.keyFingerprint ?? '(none: unencrypted)'}, this datastore ${
        datastore.info.keyFingerprint ?? '(none: unencrypted)'
      }: refusing to mix keys`,
      { source: source.site, sourceKeyFingerprint: sourceInfo.keyFingerprint, keyFingerprint: datastore.info.keyFingerprint },
    );
  }
  const listed = await source.listBackups();
  const wanted = listed.filter((b) => !datastore.catalog.get(b.backupId));
  result.backupsAlreadyPresent = listed.length - wanted.length;
  log.info({ source: source.site, listed: listed.length, wanted: wanted.length }, 'sync started');
  let done = 0;
  for (const entry of wanted) {
    opts.signal?.throwIfAborted();
    const manifestFile = await source.getManifest(entry.backupId);
    const manifest = decodeManifest(manifestFile, `manifest of backup ${entry.backupId} from ${source.site}`);
    if (manifest.backupId !== entry.backupId) {
      throw new CorruptDataError(`manifest of backup ${entry.backupId} from ${source.site}`, `names backup ${manifest.backupId}`);
    }
    const indexFiles = new Map<string, Buffer>();
    const digests: Buffer[] = [];
    for (const disk of manifest.disks) {
      const what = `index of disk ${disk.name} of backup ${manifest.backupId} from ${source.site}`;
      const file = await source.getIndex(manifest.backupId, disk.name);
      if (fixedIndexFileSha256(file) !== disk.indexSha256) throw new CorruptDataError(what, 'does not match the manifest');
      const index = decodeFixedIndex(file, what);
      indexFiles.set(disk.name, file);
      for (let i = 0; i < index.chunkCount; i++) digests.push(index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    }
    const hold = datastore.holdChunks();
    let stored: Manifest;
    try {
      for (const d of digests) if (!isZeroDigest(d)) hold.add(digestHex(d));
      const missing = await datastore.findMissing(digests);
      const copied = await copyChunks(opts, missing);
      result.chunksCopied += copied.chunks;
      result.bytesCopied += copied.bytes;
      stored = (await datastore.importBackup(manifestFile, indexFiles)).manifest;
    } finally {
      datastore.releaseHold(hold);
    }
    result.copied.push(backupRecord(stored, opts.site));
    done++;
    opts.progress?.('sync', done, wanted.length);
    log.info({ backupId: stored.backupId, vm: stored.vm }, 'backup synced');
  }
  result.durationMs = clock.nowMs() - startedMs;
  log.info({ copied: result.copied.length, chunksCopied: result.chunksCopied, bytesCopied: result.bytesCopied }, 'sync finished');
  return result;
}

/** Fetches the given chunks from the source in batches, checks each, and writes it. */
async function copyChunks(opts: SiteSyncOptions, digests: readonly Buffer[]): Promise<{ chunks: number; bytes: number }> {
  const batchSize = opts.batchSize ?? 64;
  const pool = new TaskPool(opts.concurrency ?? 2);
  const copied = { chunks: 0, bytes: 0 };
  for (let start = 0; start < digests.length; start += batchSize) {
    opts.signal?.throwIfAborted();
    const batch = digests.slice(start, start + batchSize);
    await pool.run(async () => {
      const wanted = new Set(batch.map(digestHex));
      for await (const { digest, blob } of opts.source.getChunks(batch)) {
        const hex = digestHex(digest);
        if (!wanted.delete(hex)) throw new CorruptDataError(`chunk ${hex} from ${opts.source.site}`, 'was not asked for');
        await opts.datastore.blobChecker.check(digest, blob);
        if ((await opts.datastore.chunks.put(digest, blob)) === 'written') {
          copied.chunks++;
          copied.bytes += blob.length;
        }
      }
      if (wanted.size > 0) throw new ChunkMissingError([...wanted], { source: opts.source.site });
    });
  }
  await pool.drain();
  return copied;
}
