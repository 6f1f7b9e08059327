/**
 * The backup job: copies one VM's disks into a storage's datastore.
 *
 * Terms: a *chunk* is a fixed-size, disk-aligned slice of a disk (the datastore's chunk size; the
 * last one may be short); its *digest* is the SHA-256 of its bytes, or ZERO_DIGEST for a chunk of
 * zeros, which is never sent. A *session* is storage's open upload, keyed by job id + attempt.
 *
 * Flow: read the chunk size; pick full or incremental (auto: incremental from the newest backup
 * of the VM when there is one); open a backup view; BeginBackup (when this attempt already
 * committed, report that backup and read nothing); hash every chunk, ask FindMissing in batches
 * and stream only what is missing on one PutChunks stream; once storage says every chunk is
 * durable, upload each disk's index and commit. Any failure aborts the session and is rethrown.
 * Memory is bounded by one batch of chunks plus the stream's buffer, whatever the disk size.
 */
import type { Clock } from '../../shared/clock.js';
import { CancelledError, CorruptDataError } from '../../shared/errors.js';
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { chunkCountFor } from '../../shared/format/fixed-index.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import type { Logger } from '../../shared/log.js';
import type { BackupMode } from '../../shared/messages/jobs.js';
import type { BackupRecord, BackupResult } from '../../shared/messages/results.js';
import type { BackupView, HypervisorDriver } from '../hypervisors/hypervisor.js';
import type { BackupSummary, BlockStore } from '../ports/block-store.js';
import { ChunkUploader } from './chunk-uploader.js';
import { readChunks } from './disk-chunker.js';

export interface BackupJobInput {
  readonly jobId: string;
  readonly attempt: number;
  readonly vm: string;
  readonly mode: BackupMode;
}

export interface BackupJobDeps {
  readonly driver: HypervisorDriver;
  readonly store: BlockStore;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  progress(phase: string, doneBytes: number, totalBytes: number): void;
}

export interface BackupTuning {
  /** Most digests per FindMissing call. */
  readonly findMissingBatch: number;
  /** Most chunk bytes held while a FindMissing batch fills. */
  readonly maxBufferedBytes: number;
}

export const defaultBackupTuning: BackupTuning = { findMissingBatch: 256, maxBufferedBytes: 64 * 1024 * 1024 };

interface Counters {
  bytesRead: number;
  chunksTotal: number;
  chunksZero: number;
}

/** Runs one backup; returns what it made (or what this attempt had already made). */
export async function runBackup(
  input: BackupJobInput,
  deps: BackupJobDeps,
  tuning: BackupTuning = defaultBackupTuning,
): Promise<BackupResult> {
  const { store, clock } = deps;
  const log = deps.log.child({ vm: input.vm });
  const startMs = clock.nowMs();
  const info = await store.info();
  const { mode, parentBackupId } = await chooseMode(store, input, log);

  const view = await deps.driver.openBackupView(input.vm);
  // finish(false) keeps every change for the next backup; only a backup this run committed
  // lets the view drop its checkpoint (a redelivered attempt made its backup from an older view).
  let success = false;
  let sessionId: string | undefined;
  let uploader: ChunkUploader | undefined;
  try {
    const begin = await store.beginBackup({
      vm: input.vm,
      disks: view.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
      jobId: input.jobId,
      attempt: input.attempt,
      parentBackupId,
      mode,
      changeTracking: 'hash',
      changeTrackingNote: null,
    });
    if (begin.committedBackupId) {
      log.info({ backupId: begin.committedBackupId }, 'job attempt already committed; reporting its backup');
      const backup = await committedRecord(store, begin.committedBackupId, info.site);
      return {
        backup,
        alreadyCommitted: true,
        bytesRead: 0,
        chunksTotal: 0,
        chunksZero: 0,
        chunksSent: 0,
        bytesSent: 0,
        durationMs: clock.nowMs() - startMs,
      };
    }
    sessionId = begin.sessionId;
    const chunkSizeBytes = begin.chunkSizeBytes || info.chunkSizeBytes;
    const maxBatch = Math.max(1, Math.min(tuning.findMissingBatch, Math.floor(tuning.maxBufferedBytes / chunkSizeBytes)));
    uploader = new ChunkUploader(store, sessionId, maxBatch, tuning.maxBufferedBytes);
    log.info({ mode, parentBackupId, chunkSizeBytes, sessionId }, 'backup started');

    const counters: Counters = { bytesRead: 0, chunksTotal: 0, chunksZero: 0 };
    const indexes = await readDisks(view, chunkSizeBytes, uploader, counters, deps);
    deps.progress('commit', counters.bytesRead, counters.bytesRead);
    const totals = await uploader.close();
    for (const [disk, digests] of indexes) await store.putIndex(sessionId, disk, digests);
    const durationMs = clock.nowMs() - startMs;
    const stats = {
      bytesRead: counters.bytesRead,
      chunksTotal: counters.chunksTotal,
      chunksZero: counters.chunksZero,
      chunksSent: uploader.chunksSent,
      bytesSent: uploader.bytesSent,
      chunksWritten: totals.chunksWritten,
      chunksAlreadyPresent: totals.chunksAlreadyPresent,
      durationMs,
    };
    const summary = await store.commitBackup(sessionId, stats);
    success = true;
    const backup = recordOf(summary, info.site);
    log.info({ backupId: backup.backupId, ...stats }, 'backup committed');
    return {
      backup,
      alreadyCommitted: false,
      bytesRead: counters.bytesRead,
      chunksTotal: counters.chunksTotal,
      chunksZero: counters.chunksZero,
      chunksSent: uploader.chunksSent,
      bytesSent: uploader.bytesSent,
      durationMs: clock.nowMs() - startMs,
    };
  } catch (err) {
    uploader?.abort();
    if (sessionId !== undefined) {
      await store.abortBackup(sessionId).catch((abortErr: unknown) => {
        log.warn({ err: abortErr, sessionId }, 'abort of the backup session failed; storage drops it later');
      });
    }
    throw err;
  } finally {
    await view.finish(success).catch((err: unknown) => log.warn({ err, success }, 'closing the backup view failed'));
  }
}

/** Reads every disk, offers its non-zero chunks to the uploader, returns each disk's digests. */
async function readDisks(
  view: BackupView,
  chunkSizeBytes: number,
  uploader: ChunkUploader,
  counters: Counters,
  deps: BackupJobDeps,
): Promise<Map<string, Buffer>> {
  const totalBytes = view.disks.reduce((sum, d) => sum + d.sizeBytes, 0);
  const indexes = new Map<string, Buffer>();
  for (const disk of view.disks) {
    // Zero-filled: every position starts as ZERO_DIGEST and only non-zero chunks overwrite it.
    const digests = Buffer.alloc(chunkCountFor(disk.sizeBytes, chunkSizeBytes) * DIGEST_BYTES);
    for await (const chunk of readChunks(disk, chunkSizeBytes)) {
      if (deps.signal?.aborted) throw new CancelledError('backup cancelled');
      counters.bytesRead += chunk.data.length;
      counters.chunksTotal++;
      if (chunk.zero) {
        counters.chunksZero++;
      } else {
        chunk.digest.copy(digests, chunk.index * DIGEST_BYTES);
        await uploader.offer(chunk.digest, chunk.data);
      }
      deps.progress('read', counters.bytesRead, totalBytes);
    }
    indexes.set(disk.name, digests);
  }
  return indexes;
}

/** Full, or incremental from the newest backup of the VM in this store. */
async function chooseMode(
  store: BlockStore,
  input: BackupJobInput,
  log: Logger,
): Promise<{ mode: 'full' | 'incremental'; parentBackupId: string | null }> {
  if (input.mode === 'full') return { mode: 'full', parentBackupId: null };
  const backups = (await store.listBackups(input.vm)).filter((b) => b.vm === input.vm);
  const newest = backups.reduce<BackupSummary | undefined>((best, b) => (!best || newer(b, best) ? b : best), undefined);
  if (!newest) {
    if (input.mode === 'incremental') log.info('no earlier backup of this VM in the store; making a full backup');
    return { mode: 'full', parentBackupId: null };
  }
  return { mode: 'incremental', parentBackupId: newest.backupId };
}

function newer(a: BackupSummary, b: BackupSummary): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.backupId > b.backupId;
}

function recordOf(summary: BackupSummary, site: string): BackupRecord {
  const disks = summary.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes }));
  return {
    backupId: summary.backupId,
    vm: summary.vm,
    site,
    createdAt: summary.createdAt,
    mode: summary.mode === 'incremental' ? 'incremental' : 'full',
    parentBackupId: summary.parentBackupId,
    jobId: summary.jobId,
    sizeBytes: disks.reduce((sum, d) => sum + d.sizeBytes, 0),
    disks,
  };
}

/** The record of a backup an earlier delivery of this attempt committed, from its manifest. */
async function committedRecord(store: BlockStore, backupId: string, site: string): Promise<BackupRecord> {
  const what = `manifest of backup ${backupId}`;
  const manifest = decodeManifest(await store.getManifest(backupId), what);
  if (manifest.backupId !== backupId) throw new CorruptDataError(what, `names backup ${manifest.backupId}`);
  const disks = manifest.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes }));
  return {
    backupId: manifest.backupId,
    vm: manifest.vm,
    site,
    createdAt: manifest.createdAt,
    mode: manifest.mode,
    parentBackupId: manifest.parentBackupId,
    jobId: manifest.jobId,
    sizeBytes: disks.reduce((sum, d) => sum + d.sizeBytes, 0),
    disks,
  };
}
