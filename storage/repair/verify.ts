/**
 * Verify (and repair): re-reads what the datastore holds and checks it.
 *
 * Scope: one backup (`backupId`), every backup of one VM (`vm`), or the whole datastore;
 * backups verified within `skipVerifiedWithinMs` are skipped unless `force`.
 * 1. Every backup directory's manifest and each disk's .fidx pass their own checks, and each
 *    index matches the SHA-256 its manifest records; failures are listed as damaged files.
 * 2. Every chunk those indexes reference is read once and checked as storage can without a key
 *    (BlobChecker: structure, CRC, kind; and content against its digest when unencrypted). A
 *    damaged blob is moved to quarantine/, never overwritten in place.
 * 3. With repair on, each damaged or missing chunk, manifest or index is healed from the peers
 *    by the repair service (quarantine, fetch, check, atomic write, recorded; an alert when no
 *    peer can). Every finding names the backups, disks and byte offsets that use the chunk, and
 *    what became of it.
 * A backup is verified when its files are sound and every chunk it references is now good: its
 * verified.json records when (and is removed from a backup found damaged).
 */
import type { Clock } from '../../shared/clock.js';
import { AppError, CorruptDataError, NotFoundError, PreconditionError, errorMessage } from '../../shared/errors.js';
import { DIGEST_BYTES, digestFromHex, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import type { Logger } from '../../shared/log.js';
import type { ChunkFinding, VerifyResult } from '../../shared/messages/results.js';
import type { BackupDir, Datastore } from '../datastore/datastore.js';
import { TaskPool } from '../datastore/task-pool.js';
import { problemOf as damageProblem, type RepairService } from './repair-service.js';

export interface VerifyOptions {
  readonly datastore: Datastore;
  readonly site: string;
  readonly repair: boolean;
  /** Heals what verify finds bad (used when `repair` is on). */
  readonly repairService?: RepairService;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly progress?: (phase: string, doneBytes: number, totalBytes: number) => void;
  /** Chunks read and checked at once. */
  readonly concurrency?: number;
  /** Only this backup. */
  readonly backupId?: string;
  /** Only the backups of this VM. */
  readonly vm?: string;
  /** Skip backups verified within this many milliseconds (0: none), unless `force`. */
  readonly skipVerifiedWithinMs?: number;
  readonly force?: boolean;
}

interface SoundBackup {
  readonly backupId: string;
  readonly vm: string;
  readonly chunkSizeBytes: number;
  /** Manifest and every index passed their checks (else the backup cannot be verified). */
  readonly filesSound: boolean;
  readonly indexes: { readonly disk: string; readonly index: FixedIndex }[];
}

/** Chunk heals a verify runs at once. */
const HEALS_AT_ONCE = 8;

function problemOf(err: unknown): string {
  if ((err instanceof CorruptDataError || err instanceof PreconditionError) && typeof err.details.problem === 'string') return err.details.problem;
  return errorMessage(err);
}

/** The backup directories in scope, and those skipped as recently verified. */
async function backupsInScope(opts: VerifyOptions): Promise<{ entries: BackupDir[]; skipped: string[] }> {
  const { datastore } = opts;
  if (opts.backupId !== undefined && !datastore.catalog.get(opts.backupId)) {
    const onDisk = (await datastore.scanBackupDirs()).some((e) => e.backupId === opts.backupId);
    if (!onDisk) throw new NotFoundError('backup', opts.backupId);
  }
  const all = (await datastore.scanBackupDirs()).filter(
    (e) => (opts.backupId === undefined || e.backupId === opts.backupId) && (opts.vm === undefined || e.vm === opts.vm),
  );
  const within = opts.force === true ? 0 : (opts.skipVerifiedWithinMs ?? 0);
  if (within <= 0) return { entries: all, skipped: [] };
  const nowMs = opts.clock.nowMs();
  const entries: BackupDir[] = [];
  const skipped: string[] = [];
  for (const entry of all) {
    const verifiedAt = datastore.catalog.get(entry.backupId) ? datastore.marksOf(entry.backupId).verifiedAt : null;
    if (verifiedAt !== null && nowMs - Date.parse(verifiedAt) < within) skipped.push(entry.backupId);
    else entries.push(entry);
  }
  return { entries, skipped };
}

/** Checks the backups in scope and every chunk they use; with `repair`, heals chunks from the peers. */
export async function runVerify(opts: VerifyOptions): Promise<VerifyResult> {
  const { datastore, clock, log } = opts;
  const startedMs = clock.nowMs();
  const result: VerifyResult = {
    site: opts.site,
    backupsChecked: 0,
    chunksChecked: 0,
    bytesChecked: 0,
    damagedFiles: [],
    chunks: [],
    repaired: 0,
    unrepaired: 0,
    verifiedBackupIds: [],
    verifiedAt: null,
    skippedBackupIds: [],
    durationMs: 0,
  };

  const scope = await backupsInScope(opts);
  result.skippedBackupIds = scope.skipped;
  const sound: SoundBackup[] = [];
  const healer = opts.repair ? opts.repairService : undefined;
  for (const entry of scope.entries) {
    result.backupsChecked++;
    if (healer) await healFiles(healer, datastore, entry, result);
    const backup = await checkBackupFiles(datastore, entry, result);
    if (backup) sound.push(backup);
  }

  const unique = new Map<string, Buffer>();
  for (const backup of sound) {
    for (const { index } of backup.indexes) {
      for (let i = 0; i < index.chunkCount; i++) {
        const digest = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
        if (isZeroDigest(digest)) continue;
        const hex = digestHex(digest);
        if (!unique.has(hex)) unique.set(hex, Buffer.from(digest));
      }
    }
  }

  const bad = new Map<string, { problem: string }>();
  const pool = new TaskPool(opts.concurrency ?? 4);
  const totalBytes = unique.size * datastore.info.chunkSizeBytes;
  let doneBytes = 0;
  for (const [hex, digest] of unique) {
    opts.signal?.throwIfAborted();
    await pool.run(async () => {
      const blob = await datastore.chunks.get(digest);
      result.chunksChecked++;
      if (blob === undefined) {
        bad.set(hex, { problem: 'missing' });
      } else {
        result.bytesChecked += blob.length;
        try {
          await datastore.blobChecker.check(digest, blob);
        } catch (err) {
          if (!(err instanceof CorruptDataError) && !(err instanceof PreconditionError)) throw err;
          const problem = problemOf(err);
          bad.set(hex, { problem });
          await datastore.chunks.quarantine(digest, problem);
          log.warn({ digest: hex, problem }, 'damaged chunk quarantined');
        }
      }
      doneBytes += datastore.info.chunkSizeBytes;
      opts.progress?.('verify', doneBytes, totalBytes);
    });
  }
  await pool.drain();

  const stillBad = new Set<string>();
  const refs = referencesOf(sound, new Set(bad.keys()));
  const findings: ChunkFinding[] = [...bad]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([hex, { problem }]) => ({ digest: hex, problem, backups: refs.get(hex) ?? [], outcome: 'unrepaired', peer: null, bytes: 0 }));
  // Heals run several at once (they share calls to each peer).
  const heals = new TaskPool(HEALS_AT_ONCE);
  for (const finding of healer ? findings : []) {
    opts.signal?.throwIfAborted();
    await heals.run(async () => {
      try {
        const blob = await healer?.healChunk(digestFromHex(finding.digest), finding.problem, { trigger: 'verify' });
        if (!blob) return;
        finding.outcome = 'repaired';
        finding.peer = healer?.journal.recordedSince(0).findLast((r) => r.digest === finding.digest)?.peer ?? null;
        finding.bytes = blob.length;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
      }
    });
  }
  await heals.drain();
  for (const finding of findings) {
    if (finding.outcome === 'repaired') result.repaired++;
    else {
      result.unrepaired++;
      stillBad.add(finding.digest);
    }
    result.chunks.push(finding);
  }

  // Damage met earlier and left unhealed (alerts): healed now if a peer can, or gone since.
  if (healer) await healer.recheckAlerts();

  const verifiedAt = clock.nowIso();
  const good = new Set<string>();
  for (const backup of sound) {
    if (backup.filesSound && !backup.indexes.some(({ index }) => indexUsesAny(index, stillBad))) good.add(backup.backupId);
  }
  for (const entry of scope.entries) {
    if (!datastore.catalog.get(entry.backupId)) continue;
    if (good.has(entry.backupId)) {
      await datastore.recordVerified(entry.backupId, verifiedAt);
      result.verifiedBackupIds.push(entry.backupId);
    } else {
      await datastore.clearVerified(entry.backupId);
    }
  }
  if (result.verifiedBackupIds.length > 0) result.verifiedAt = verifiedAt;
  result.durationMs = clock.nowMs() - startedMs;
  log.info(
    {
      backups: result.backupsChecked,
      chunks: result.chunksChecked,
      damagedFiles: result.damagedFiles.length,
      damagedChunks: result.chunks.length,
      repaired: result.repaired,
      unrepaired: result.unrepaired,
    },
    'verify finished',
  );
  return result;
}

/**
 * Heals a backup's damaged manifest and indexes before they are checked, recording each heal as
 * a repaired damaged file (and leaving the unhealable ones for checkBackupFiles to report).
 */
async function healFiles(healer: RepairService, datastore: Datastore, entry: BackupDir, result: VerifyResult): Promise<void> {
  const fileOf = (name: string) => `backups/${entry.vm}/${entry.backupId}/${name}`;
  const before = healer.journal.recordedCount;
  try {
    await healer.readManifest(entry.backupId, { trigger: 'verify' });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return;
  }
  const manifest = datastore.catalog.get(entry.backupId);
  for (const disk of manifest?.disks ?? []) {
    try {
      await healer.readIndex(entry.backupId, disk.name, { trigger: 'verify' });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
  }
  for (const record of healer.journal.recordedSince(before)) {
    if (record.object === 'chunk') continue;
    result.damagedFiles.push({
      backupId: entry.backupId,
      file: fileOf(record.object === 'manifest' ? 'manifest.json' : `${record.disk ?? ''}.fidx`),
      problem: record.problem,
      outcome: 'repaired',
      peer: record.peer,
    });
  }
}

/** Checks a backup's manifest and indexes; records damage and returns undefined when unsound. */
async function checkBackupFiles(datastore: Datastore, entry: BackupDir, result: VerifyResult): Promise<SoundBackup | undefined> {
  const fileOf = (name: string) => `backups/${entry.vm}/${entry.backupId}/${name}`;
  let manifest;
  try {
    manifest = await datastore.readManifestAt(entry);
  } catch (err) {
    result.damagedFiles.push({ backupId: entry.backupId, file: fileOf('manifest.json'), problem: damageProblem(err), outcome: 'unrepaired', peer: null });
    return undefined;
  }
  const indexes: SoundBackup['indexes'] = [];
  let soundFiles = true;
  for (const disk of manifest.disks) {
    const file = fileOf(`${disk.name}.fidx`);
    try {
      const bytes = await datastore.readIndexFileAt(entry, disk.name);
      const index = decodeFixedIndex(bytes, file);
      if (fixedIndexFileSha256(bytes) !== disk.indexSha256) throw new CorruptDataError(file, 'does not match the manifest');
      indexes.push({ disk: disk.name, index });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const problem = err.code === 'NOT_FOUND' ? 'missing' : problemOf(err);
      result.damagedFiles.push({ backupId: entry.backupId, file, problem, outcome: 'unrepaired', peer: null });
      soundFiles = false;
    }
  }
  // Chunks of a backup with a damaged index are still checked through its sound indexes,
  // but the backup itself cannot be verified.
  return { backupId: entry.backupId, vm: entry.vm, chunkSizeBytes: manifest.chunkSizeBytes, filesSound: soundFiles, indexes };
}

function indexUsesAny(index: FixedIndex, hexes: ReadonlySet<string>): boolean {
  if (hexes.size === 0) return false;
  for (let i = 0; i < index.chunkCount; i++) {
    if (hexes.has(digestHex(index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES)))) return true;
  }
  return false;
}

/** Where a chunk is used: backup, VM, disk and byte offset. */
function referencesOf(backups: readonly SoundBackup[], hexes: ReadonlySet<string>): Map<string, ChunkFinding['backups']> {
  const refs = new Map<string, ChunkFinding['backups']>();
  if (hexes.size === 0) return refs;
  for (const backup of backups) {
    for (const { disk, index } of backup.indexes) {
      for (let i = 0; i < index.chunkCount; i++) {
        const hex = index.digests.toString('hex', i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
        if (!hexes.has(hex)) continue;
        const list = refs.get(hex) ?? [];
        list.push({ backupId: backup.backupId, vm: backup.vm, disk, offsetBytes: i * backup.chunkSizeBytes });
        refs.set(hex, list);
      }
    }
  }
  return refs;
}
