/**
 * The backup job: copies one VM's disks into a storage's datastore.
 *
 * Terms: a *chunk* is a fixed-size, disk-aligned slice of a disk (the datastore's chunk size; the
 * last one may be short); its *digest* is the SHA-256 of its bytes (HMAC-SHA-256 under the id key
 * in an encrypted datastore), or ZERO_DIGEST for a chunk of zeros, which is never sent. A
 * *session* is storage's open upload, keyed by job id + attempt.
 *
 * Flow: read the datastore info and refuse, before anything changes, a datastore whose key is not
 * the agent's; open a backup view; pick full or incremental (auto: incremental from the newest
 * backup of the VM when there is one; it reads only dirty extents when that backup recorded the
 * view's base checkpoint, else everything allocated, see read-plan.ts); BeginBackup (when this
 * attempt already committed, report that backup and read nothing); run the chunk pipeline (chunk-pipeline.ts: hash, FindMissing in
 * batches, send only what is missing on one PutChunks stream, in bounded memory); once storage
 * says every chunk is durable, upload each disk's index and commit, with the content HMAC when
 * the agent holds a key. Any failure aborts the session and is rethrown.
 */
import { CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import type { Logger } from '../../shared/log.js';
import type { BackupMode, RequestedConsistency } from '../../shared/messages/jobs.js';
import type { BackupRecord, BackupResult } from '../../shared/messages/results.js';
import { backupContentHmac, requireDatastoreKey } from '../encryption/datastore-key.js';
import type { BackupView, HypervisorDriver } from '../hypervisors/hypervisor.js';
import type { BackupSummary, BlockStore } from '../ports/block-store.js';
import type { ChunkProcessor } from '../ports/chunk-processor.js';
import type { DataPathDeps } from '../ports/data-path-deps.js';
import { ChunkPipeline, defaultPipelineTuning, type PipelineTuning } from './chunk-pipeline.js';
import { readEverything, readExtents, type DiskPlan } from './read-plan.js';
import { fetchCheckedIndex } from './stored-index.js';
import { planConsistency, recordedConsistency } from './requested-consistency.js';

export interface BackupJobInput {
  readonly jobId: string;
  readonly attempt: number;
  readonly vm: string;
  readonly mode: BackupMode;
  /** What the job's policy asks (requested-consistency.ts); absent: the VM's config decides. */
  readonly consistency?: RequestedConsistency | undefined;
}

export interface BackupJobDeps extends DataPathDeps {
  readonly driver: HypervisorDriver;
}

export type BackupTuning = PipelineTuning;
export const defaultBackupTuning: BackupTuning = defaultPipelineTuning;

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
  requireDatastoreKey(info, deps.keys);
  const consistencyPlan = planConsistency(input.vm, input.consistency, deps.driver);
  const view = await deps.driver.openBackupView(input.vm);
  // finish(false) keeps every change for the next backup; only a backup this run committed
  // lets the view drop its checkpoint (a redelivered attempt made its backup from an older view).
  let success = false;
  let sessionId: string | undefined;
  let pipeline: ChunkPipeline | undefined;
  let processor: ChunkProcessor | undefined;
  try {
    const { mode, parentBackupId, base } = await chooseMode(store, input, view, info.chunkSizeBytes, log);
    const begin = await store.beginBackup({
      vm: input.vm,
      disks: view.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
      jobId: input.jobId,
      attempt: input.attempt,
      parentBackupId,
      mode,
      changeTracking: base ? 'dirty-bitmap' : 'hash',
      changeTrackingNote: base ? null : fullReadReason(input, view, parentBackupId),
      checkpoint: view.checkpoint,
      consistency: recordedConsistency(consistencyPlan, view.consistency),
      ...(deps.driver.definitionOf ? { vmDefinition: { hypervisor: deps.driver.kind, definition: deps.driver.definitionOf(input.vm) } } : {}),
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
    if (base && chunkSizeBytes !== base.chunkSizeBytes) throw new PreconditionError(`storage changed its chunk size to ${chunkSizeBytes} during the backup`);
    const plans = await planReads(view, chunkSizeBytes, base);
    const totalBytes = plans.reduce((sum, p) => sum + p.bytesToRead, 0);
    log.info(
      { mode, parentBackupId, changeTracking: base ? 'dirty-bitmap' : 'hash', bytesToRead: totalBytes, chunkSizeBytes, sessionId, encrypted: deps.keys !== null },
      'backup started',
    );

    processor = deps.openProcessor(deps.keys, { chunkSizeBytes });
    pipeline = new ChunkPipeline(store, sessionId, processor, chunkSizeBytes, tuning, deps.signal);
    const { indexes, totals } = await pipeline.run(plans, (done) => deps.progress('read', done, totalBytes));
    deps.progress('commit', pipeline.bytesRead, pipeline.bytesRead);
    for (const [disk, digests] of indexes) await store.putIndex(sessionId, disk, digests);
    const durationMs = clock.nowMs() - startMs;
    const stats = {
      bytesRead: pipeline.bytesRead,
      chunksTotal: pipeline.chunksTotal,
      chunksZero: pipeline.chunksZero,
      chunksSent: pipeline.chunksSent,
      bytesSent: pipeline.bytesSent,
      chunksWritten: totals.chunksWritten,
      chunksAlreadyPresent: totals.chunksAlreadyPresent,
      peakInFlightBytes: pipeline.peakInFlightBytes,
      durationMs,
    };
    const contentHmac = deps.keys
      ? backupContentHmac(deps.keys, input.vm, chunkSizeBytes, view.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, digests: indexes.get(d.name) ?? Buffer.alloc(0) })))
      : null;
    const summary = await store.commitBackup(sessionId, stats, contentHmac);
    success = true;
    const backup = recordOf(summary, info.site);
    log.info({ backupId: backup.backupId, ...stats }, 'backup committed');
    return {
      backup,
      alreadyCommitted: false,
      bytesRead: pipeline.bytesRead,
      chunksTotal: pipeline.chunksTotal,
      chunksZero: pipeline.chunksZero,
      chunksSent: pipeline.chunksSent,
      bytesSent: pipeline.bytesSent,
      durationMs: clock.nowMs() - startMs,
    };
  } catch (err) {
    pipeline?.abort();
    if (sessionId !== undefined) {
      await store.abortBackup(sessionId).catch((abortErr: unknown) => {
        log.warn({ err: abortErr, sessionId }, 'abort of the backup session failed; storage drops it later');
      });
    }
    throw err;
  } finally {
    await processor?.close();
    await view.finish(success).catch((err: unknown) => log.warn({ err, success }, 'closing the backup view failed'));
  }
}

/** The base backup of a dirty-bitmap incremental: its chunk size and each disk's digests. */
interface DirtyBitmapBase {
  readonly chunkSizeBytes: number;
  readonly digests: ReadonlyMap<string, Buffer>;
}

/**
 * Full, or incremental from the newest backup of the VM in this store. The incremental reads only
 * dirty extents when that backup recorded the view's base checkpoint and every disk kept its size;
 * otherwise it reads everything allocated and lets the hashes find what changed.
 */
async function chooseMode(
  store: BlockStore,
  input: BackupJobInput,
  view: BackupView,
  storeChunkSizeBytes: number,
  log: Logger,
): Promise<{ mode: 'full' | 'incremental'; parentBackupId: string | null; base: DirtyBitmapBase | null }> {
  if (input.mode === 'full') return { mode: 'full', parentBackupId: null, base: null };
  const backups = (await store.listBackups(input.vm)).filter((b) => b.vm === input.vm);
  const newest = backups.reduce<BackupSummary | undefined>((best, b) => (!best || newer(b, best) ? b : best), undefined);
  if (!newest) {
    if (input.mode === 'incremental') log.info('no earlier backup of this VM in the store; making a full backup');
    return { mode: 'full', parentBackupId: null, base: null };
  }
  const parentBackupId = newest.backupId;
  if (view.baseCheckpoint === null || view.disks.some((d) => !d.dirtyExtents)) return { mode: 'incremental', parentBackupId, base: null };
  const manifest = decodeManifest(await store.getManifest(parentBackupId), `manifest of backup ${parentBackupId}`);
  const sameDisks = view.disks.every((d) => manifest.disks.some((m) => m.name === d.name && m.sizeBytes === d.sizeBytes));
  if (manifest.checkpoint !== view.baseCheckpoint || !sameDisks || manifest.chunkSizeBytes !== storeChunkSizeBytes) {
    log.info({ parentBackupId, parentCheckpoint: manifest.checkpoint ?? null, baseCheckpoint: view.baseCheckpoint, sameDisks }, 'the dirty bitmaps do not start at the newest backup; reading everything allocated');
    return { mode: 'incremental', parentBackupId, base: null };
  }
  const digests = new Map<string, Buffer>();
  for (const disk of view.disks) digests.set(disk.name, (await fetchCheckedIndex(store, manifest, disk.name)).digests);
  return { mode: 'incremental', parentBackupId, base: { chunkSizeBytes: manifest.chunkSizeBytes, digests } };
}

/** Why a backup of a view with change tracking reads everything allocated (for the manifest), or null. */
function fullReadReason(input: BackupJobInput, view: BackupView, parentBackupId: string | null): string | null {
  if (view.checkpoint === null) return null;
  if (view.fullReason !== null) return view.fullReason;
  if (input.mode === 'full') return 'a full backup was requested';
  if (parentBackupId === null) return 'no earlier backup of this VM in this datastore';
  return `the newest backup ${parentBackupId} did not record checkpoint ${view.baseCheckpoint ?? '(none)'} or its disks differ`;
}

/** Which chunks of each disk to read: the dirty ones over the base, the allocated ones, or all. */
async function planReads(view: BackupView, chunkSizeBytes: number, base: DirtyBitmapBase | null): Promise<DiskPlan[]> {
  const plans: DiskPlan[] = [];
  for (const disk of view.disks) {
    const baseDigests = base?.digests.get(disk.name);
    if (baseDigests && disk.dirtyExtents) plans.push(await readExtents(disk, chunkSizeBytes, disk.dirtyExtents(), baseDigests));
    else if (disk.allocatedExtents) plans.push(await readExtents(disk, chunkSizeBytes, disk.allocatedExtents(), null));
    else plans.push(readEverything(disk));
  }
  return plans;
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
