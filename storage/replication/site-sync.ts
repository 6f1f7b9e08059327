/**
 * Site sync: one algorithm for both directions, over a source and a sink (sync-ports.ts).
 * - pull (runSiteSync): runs at the replica; source = the primary over gRPC, sink = this datastore;
 * - push (runPushSync): runs at the primary; source = this datastore, sink = the replica over gRPC.
 *
 * For every backup the source lists that the sink neither has nor pruned under its own
 * retention: fetch the manifest and indexes (each index checked against the manifest), ask the
 * sink which chunks it lacks, move only those (each blob checked by the receiver), then import
 * the backup at the sink: same id, same bytes, manifest last, and only once every chunk it
 * references is there (the sink refuses otherwise). A source whose key fingerprint differs from
 * the sink's is refused before anything moves.
 *
 * Resumable: content addressing makes a re-run, or a run after a crash of either side, move
 * nothing twice. Within a run, a step that fails on the link (refused, reset, silent) is retried
 * with a capped backoff for up to `linkRetryMs` (LinkGuard); the backup's missing chunks are
 * then asked for again and the transfer continues where it stood (`resumes` counts outages
 * ridden out). A backup that cannot be copied for another reason (a chunk the source lacks and
 * cannot heal, a damaged file) is listed in `failed`, and the sync goes on with the others.
 * A link down for longer ends the sync: with nothing copied yet it fails (LinkDownError);
 * otherwise the backups not reached are listed in `failed`, so the copies made are reported.
 *
 * Blob bytes go through one token bucket shared by all batches in flight (TransferGate), with
 * at most `concurrency` batches (GetChunks or PutChunks calls) at once. Reads at the source
 * pass `excludeSites: [sink site]`: a source healing a damaged chunk of its own never asks the
 * site it is syncing to (which would ask it back).
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Clock } from '../../shared/clock.js';
import { AppError, ChunkMissingError, CorruptDataError, PreconditionError, errorMessage } from '../../shared/errors.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, fixedIndexFileSha256 } from '../../shared/format/fixed-index.js';
import { decodeManifest, type Manifest } from '../../shared/format/manifest.js';
import type { Logger } from '../../shared/log.js';
import type { BackupRecord, SyncResult } from '../../shared/messages/results.js';
import type { Datastore } from '../datastore/datastore.js';
import { TaskPool } from '../datastore/task-pool.js';
import { DatastoreSyncSink } from './datastore-sync-sink.js';
import { DatastoreSyncSource, type ChunkReader } from './datastore-sync-source.js';
import { LinkDownError, LinkGuard } from './link-guard.js';
import type { PeerBackup, PeerChunk, PeerStore } from './peer-store.js';
import type { UnreportedCopies } from './unreported-copies.js';
import type { SyncSink, SyncSource } from './sync-ports.js';
import { TransferGate } from './transfer-gate.js';

/** How long a sync rides out a failed link by default. */
export const DEFAULT_LINK_RETRY_MS = 5 * 60_000;
/** Digests per GetChunks/PutChunks call by default. */
export const DEFAULT_BATCH_SIZE = 64;
/** Times an import that finds a chunk gone (swept meanwhile at the sink) is retried. */
const IMPORT_RETRIES = 2;

/** How a sync moves blobs; shared by pull and push. */
export interface SyncTransferOptions {
  /** Where copies are recorded until a result reporting them is stored (the controller's view of the replica). */
  readonly unreported?: UnreportedCopies | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal?: AbortSignal | undefined;
  readonly progress?: (phase: string, done: number, total: number) => void;
  /** Digests per GetChunks (pull) or PutChunks (push) call. */
  readonly batchSize?: number | undefined;
  /** Calls in flight. */
  readonly concurrency?: number | undefined;
  /** Token-bucket limit on blob bytes per second over all calls; absent: unlimited. */
  readonly rateBytesPerSecond?: number | undefined;
  /** How long a failed link is retried before the sync gives up; default 5 minutes. */
  readonly linkRetryMs?: number | undefined;
  /** Waits (tests pass a fake); default a timer. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

export interface SyncOptions extends SyncTransferOptions {
  readonly source: SyncSource;
  readonly sink: SyncSink;
  readonly mode: 'pull' | 'push';
}

export interface SiteSyncOptions extends SyncTransferOptions {
  readonly datastore: Datastore;
  /** This storage's site (the replica). */
  readonly site: string;
  readonly source: PeerStore;
}

export interface PushSyncOptions extends SyncTransferOptions {
  readonly datastore: Datastore;
  /** This storage's site (the primary). */
  readonly site: string;
  /** The replica. */
  readonly sink: SyncSink;
  /** Reads a local blob, healing it from peers other than the replica when it is damaged. */
  readonly readChunk?: ChunkReader | undefined;
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

/** Pull: this datastore copies every backup the source has and it lacks (and did not prune). */
export function runSiteSync(opts: SiteSyncOptions): Promise<SyncResult> {
  return syncBackups({ ...opts, sink: new DatastoreSyncSink(opts.datastore, opts.site), mode: 'pull' });
}

/** Push: every backup of this datastore the replica lacks (and did not prune) goes there. */
export function runPushSync(opts: PushSyncOptions): Promise<SyncResult> {
  return syncBackups({ ...opts, source: new DatastoreSyncSource(opts.datastore, opts.site, opts.readChunk), mode: 'push' });
}

/** Errors that concern one backup (its data or files), after which the sync goes on with the others. */
function isBackupFailure(err: unknown): boolean {
  if (!(err instanceof AppError) || err instanceof LinkDownError) return false;
  return err.code === 'NOT_FOUND' || err.code === 'DATA_LOSS' || err.code === 'FAILED_PRECONDITION' || err.code === 'INVALID_ARGUMENT';
}

/** A chunk gone at the sink when the import checked (swept by its GC after it was reported present). */
class ImportChunkMissing extends Error {
  constructor(readonly missing: ChunkMissingError) {
    super(missing.message);
  }
}

/** The one sync algorithm. */
export async function syncBackups(opts: SyncOptions): Promise<SyncResult> {
  const { source, sink, clock, log } = opts;
  const sleep = opts.sleep ?? ((ms: number) => sleepFor(ms, undefined, opts.signal ? { signal: opts.signal } : {}));
  const startedMs = clock.nowMs();
  const remote = opts.mode === 'pull' ? source.site : sink.site;
  const link = new LinkGuard({ peer: remote, linkRetryMs: opts.linkRetryMs ?? DEFAULT_LINK_RETRY_MS, clock, sleep, log, signal: opts.signal });
  const readOptions = { excludeSites: [sink.site] };
  const result: SyncResult = {
    sourceSite: source.site,
    site: sink.site,
    copied: [],
    backupsAlreadyPresent: 0,
    backupsPrunedAtReplica: 0,
    failed: [],
    chunksCopied: 0,
    bytesCopied: 0,
    resumes: 0,
    mode: opts.mode,
    durationMs: 0,
  };

  const sourceInfo = await link.run(() => source.info());
  const sinkInfo = await link.run(() => sink.info());
  if (sourceInfo.keyFingerprint !== sinkInfo.keyFingerprint) {
    throw new PreconditionError(
      `sync source ${source.site} has key fingerprint ${sourceInfo.keyFingerprint ?? '(none: unencrypted)'}, the replica ${sink.site} ${
        sinkInfo.keyFingerprint ?? '(none: unencrypted)'
      }: refusing to mix keys`,
      { source: source.site, sourceKeyFingerprint: sourceInfo.keyFingerprint, keyFingerprint: sinkInfo.keyFingerprint },
    );
  }
  const gate = new TransferGate(opts.rateBytesPerSecond, sourceInfo.chunkSizeBytes, clock, sleep);
  const listed = await link.run(() => source.listBackups());
  const manifests = new Map<string, Buffer>();
  const manifestOf = async (backupId: string): Promise<Buffer> => {
    const cached = manifests.get(backupId);
    if (cached) return cached;
    const file = await source.getManifest(backupId, readOptions);
    manifests.set(backupId, file);
    return file;
  };
  const states = await link.run(() => sink.classify(listed, manifestOf));
  const wanted: PeerBackup[] = [];
  for (const b of listed) {
    const state = states.get(b.backupId) ?? 'absent';
    if (state === 'present') result.backupsAlreadyPresent++;
    else if (state === 'pruned') result.backupsPrunedAtReplica++;
    else wanted.push(b);
  }
  await sink.forgetPrunedAbsent(sourceInfo.datastoreId, new Set(listed.map((b) => b.backupId))).catch((err: unknown) => {
    log.warn({ err }, 'pruned log not compacted');
  });
  log.info(
    { mode: opts.mode, source: source.site, sink: sink.site, listed: listed.length, wanted: wanted.length, prunedAtReplica: result.backupsPrunedAtReplica },
    'sync started',
  );

  const copier = new BackupCopier(opts, link, gate, result, readOptions, manifestOf);
  let done = 0;
  for (const [i, entry] of wanted.entries()) {
    opts.signal?.throwIfAborted();
    try {
      const outcome = await copier.copy(entry);
      if (outcome.prunedHere) {
        result.backupsPrunedAtReplica++;
      } else if (outcome.imported) {
        const record = backupRecord(outcome.manifest, sink.site);
        await opts.unreported?.add(record);
        result.copied.push(record);
        log.info({ backupId: entry.backupId, vm: entry.vm }, 'backup synced');
      } else {
        result.backupsAlreadyPresent++;
      }
    } catch (err) {
      if (err instanceof LinkDownError && result.copied.length > 0) {
        // Report what was copied; the rest waits for the next run (which resumes, content-addressed).
        for (const rest of wanted.slice(i)) result.failed.push({ backupId: rest.backupId, vm: rest.vm, error: err.message });
        log.warn({ err: err.message, notCopied: wanted.length - i }, 'sync stopped: the link stayed down');
        break;
      }
      if (!isBackupFailure(err)) throw err;
      result.failed.push({ backupId: entry.backupId, vm: entry.vm, error: errorMessage(err) });
      log.warn({ backupId: entry.backupId, vm: entry.vm, err: errorMessage(err) }, 'backup not synced');
    }
    done++;
    opts.progress?.('sync', done, wanted.length);
  }
  // Copies earlier runs made but never reported (a kill, a failed job) go out with this result.
  for (const earlier of opts.unreported?.list() ?? []) {
    if (earlier.site === sink.site && !result.copied.some((c) => c.backupId === earlier.backupId)) result.copied.push(earlier);
  }
  result.resumes = link.resumes;
  result.durationMs = clock.nowMs() - startedMs;
  log.info(
    {
      copied: result.copied.length,
      failed: result.failed.length,
      chunksCopied: result.chunksCopied,
      bytesCopied: result.bytesCopied,
      resumes: result.resumes,
      durationMs: result.durationMs,
    },
    'sync finished',
  );
  return result;
}

/** Copies one backup at a time: files, missing chunks, import; across link failures. */
class BackupCopier {
  constructor(
    private readonly opts: SyncOptions,
    private readonly link: LinkGuard,
    private readonly gate: TransferGate,
    private readonly result: SyncResult,
    private readonly readOptions: { readonly excludeSites: readonly string[] },
    private readonly manifestOf: (backupId: string) => Promise<Buffer>,
  ) {}

  async copy(entry: PeerBackup): Promise<{ manifest: Manifest; imported: boolean; prunedHere: boolean }> {
    const { source, sink } = this.opts;
    const manifestFile = await this.link.run(() => this.manifestOf(entry.backupId));
    const manifest = decodeManifest(manifestFile, `manifest of backup ${entry.backupId} from ${source.site}`);
    if (manifest.backupId !== entry.backupId) {
      throw new CorruptDataError(`manifest of backup ${entry.backupId} from ${source.site}`, `names backup ${manifest.backupId}`);
    }
    const indexFiles = new Map<string, Buffer>();
    const unique = new Map<string, Buffer>();
    for (const disk of manifest.disks) {
      const what = `index of disk ${disk.name} of backup ${manifest.backupId} from ${source.site}`;
      const file = await this.link.run(() => source.getIndex(manifest.backupId, disk.name, this.readOptions));
      if (fixedIndexFileSha256(file) !== disk.indexSha256) throw new CorruptDataError(what, 'does not match the manifest');
      const index = decodeFixedIndex(file, what);
      indexFiles.set(disk.name, file);
      for (let i = 0; i < index.chunkCount; i++) {
        const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
        if (!isZeroDigest(d)) unique.set(digestHex(d), d);
      }
    }
    const digests = [...unique.values()];
    const release = sink.hold(unique.keys());
    // Blobs handed to the sink by a call whose answer was lost: the next FindMissing tells which arrived.
    const unconfirmed = new Map<string, number>();
    let importRetries = 0;
    try {
      for (;;) {
        this.opts.signal?.throwIfAborted();
        try {
          const missing = await sink.findMissing(digests);
          this.confirm(unconfirmed, missing);
          await this.transfer(missing, unconfirmed);
          const outcome = await sink.importBackup(manifestFile, indexFiles).catch((err: unknown) => {
            throw err instanceof ChunkMissingError ? new ImportChunkMissing(err) : err;
          });
          this.link.ok();
          return { manifest, ...outcome };
        } catch (err) {
          if (err instanceof ImportChunkMissing) {
            if (++importRetries > IMPORT_RETRIES) throw err.missing;
            this.opts.log.warn({ backupId: entry.backupId, missing: err.missing.digests.length }, 'chunks gone at the sink before the import: sending them again');
            continue;
          }
          try {
            await this.link.failed(err);
          } catch (fatal) {
            await this.confirmBeforeGivingUp(unconfirmed);
            throw fatal;
          }
        }
      }
    } finally {
      release();
    }
  }

  /** The backup is given up: still count what its interrupted calls wrote, if the sink can say. */
  private async confirmBeforeGivingUp(unconfirmed: Map<string, number>): Promise<void> {
    if (unconfirmed.size === 0) return;
    try {
      this.confirm(unconfirmed, await this.opts.sink.findMissing([...unconfirmed.keys()].map((hex) => Buffer.from(hex, 'hex'))));
    } catch (err) {
      this.opts.log.debug({ err: errorMessage(err) }, 'could not count the chunks of an interrupted call');
    }
  }

  /** Counts as copied the unconfirmed blobs the sink now has. */
  private confirm(unconfirmed: Map<string, number>, missing: readonly Buffer[]): void {
    if (unconfirmed.size === 0) return;
    const stillMissing = new Set(missing.map(digestHex));
    for (const [hex, bytes] of unconfirmed) {
      if (stillMissing.has(hex)) continue;
      this.result.chunksCopied++;
      this.result.bytesCopied += bytes;
    }
    unconfirmed.clear();
  }

  /** Moves the given blobs from source to sink, batch by batch, a few batches at once. */
  private async transfer(missing: readonly Buffer[], unconfirmed: Map<string, number>): Promise<void> {
    const { source, sink } = this.opts;
    const pool = new TaskPool(this.opts.concurrency ?? 2);
    for (let start = 0; start < missing.length; ) {
      this.opts.signal?.throwIfAborted();
      // Sized per batch: the gate learns the blobs' size as they come.
      const batch = missing.slice(start, start + this.gate.batchCount(this.opts.batchSize ?? DEFAULT_BATCH_SIZE));
      start += batch.length;
      await pool.run(async () => {
        const reserved = await this.gate.reserve(batch.length);
        const moved = { blobs: 0, bytes: 0 };
        const handed: string[] = [];
        const readOptions = this.readOptions;
        async function* checkedStream(): AsyncGenerator<PeerChunk> {
          const wanted = new Set(batch.map(digestHex));
          for await (const chunk of source.getChunks(batch, readOptions)) {
            const hex = digestHex(chunk.digest);
            if (!wanted.delete(hex)) throw new CorruptDataError(`chunk ${hex} from ${source.site}`, 'was not asked for');
            moved.blobs++;
            moved.bytes += chunk.blob.length;
            unconfirmed.set(hex, chunk.blob.length);
            handed.push(hex);
            yield chunk;
          }
          if (wanted.size > 0) throw new ChunkMissingError([...wanted], { source: source.site });
        }
        try {
          const stats = await sink.putChunks(checkedStream());
          for (const hex of handed) unconfirmed.delete(hex);
          this.result.chunksCopied += stats.chunksWritten;
          this.result.bytesCopied += stats.bytesWritten;
          this.link.ok();
        } finally {
          await this.gate.settle(reserved, moved.blobs, moved.bytes);
        }
      });
    }
    await pool.drain();
  }
}
