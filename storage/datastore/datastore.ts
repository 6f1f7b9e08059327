/**
 * The datastore: one directory holding chunk blobs by digest, and backups as a fixed index per
 * disk plus a manifest (docs/DATASTORE.md).
 *
 *   datastore.json                 id, format version, chunk size, key fingerprint (written last at creation)
 *   chunks/ab/cd/<64 hex>          one blob per chunk (ChunkStore)
 *   backups/<vm>/<backupId>/       <disk>.fidx files, then manifest.json LAST; verified.json, lock.json
 *   sessions/<sessionId>/          session.json, uploaded <disk>.fidx, chunks.log of an open upload
 *   tmp/  quarantine/              staging for atomic writes, commits and deletions; damaged files kept aside
 *   pruned.log                     backups removed under this site's retention (a sync never brings them back)
 *
 * Key rules: every file is written through tmp/ (fsync, rename, directory fsync). A backup
 * directory is built in tmp/ (indexes, then the manifest) and renamed into backups/ whole, so a
 * crashed commit leaves nothing there; a backup directory without a manifest is therefore damage
 * (a lost manifest), kept and reported for repair, never removed. A backup is deleted by renaming
 * its whole directory into tmp/ first. Damaged files are moved to quarantine/, never overwritten. A commit refuses unless every referenced chunk is durable. Sessions are keyed
 * by job id + attempt: a job attempt that already committed gets its backup back instead of a
 * second one. A locked backup cannot be deleted before its lock ends, on this storage's clock.
 * Garbage collection keeps every chunk a manifest, an open session or a running import uses.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { ChunkMissingError, ConfigError, CorruptDataError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest, encodeManifest, type Manifest, type ManifestBody } from '../../shared/format/manifest.js';
import { fsyncDir, writeFileAtomic } from '../../shared/fs/atomic-file.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { BackupCatalog } from './backup-catalog.js';
import {
  LOCK_FILE,
  VERIFIED_FILE,
  decodeLockFile,
  decodeVerifiedFile,
  encodeLockFile,
  encodeVerifiedFile,
  type BackupMarks,
} from './backup-marks.js';
import { decodeSessionFile, encodeSessionFile, type BackupSession, type SessionSpec } from './backup-session.js';
import { BlobChecker } from './blob-checker.js';
import { ChunkHold } from './chunk-hold.js';
import { ChunkIntake } from './chunk-intake.js';
import type { ChunkStore } from './chunk-store.js';
import { DATASTORE_VERSION, decodeDatastoreFile, encodeDatastoreFile } from './datastore-file.js';
import { FsChunkStore } from './fs-chunk-store.js';
import { IndexUpload } from './index-upload.js';
import { PrunedLog, prunedDirName } from './pruned-log.js';

const SKELETON = ['chunks', 'backups', 'sessions', 'tmp', 'quarantine'] as const;
const MANIFEST_FILE = 'manifest.json';
const SESSION_FILE = 'session.json';
const CHUNK_LOG_FILE = 'chunks.log';

/** What GetDatastoreInfo reports. */
export interface DatastoreInfo {
  readonly id: string;
  readonly formatVersion: number;
  readonly chunkSizeBytes: number;
  /** Fingerprint of the key its blobs are encrypted with; null: unencrypted. */
  readonly keyFingerprint: string | null;
}

/** A running garbage collection's view of what is referenced. */
export interface GcMarks {
  /** Digests referenced by manifests: filled by the collector, and by every commit while it runs. */
  readonly marks: Set<string>;
  /** Whether a digest is marked or held right now (open sessions, imports). */
  isReferenced(hex: string): boolean;
}

/** BeginBackup's answer: a new session, or the backup this job attempt already committed. */
export type BeginBackupOutcome =
  | { readonly kind: 'session'; readonly sessionId: string; readonly chunkSizeBytes: number }
  | { readonly kind: 'committed'; readonly backup: Manifest };

/** A backup directory found on disk, whether or not its manifest is sound. */
export interface BackupDir {
  readonly vm: string;
  readonly backupId: string;
  readonly dir: string;
}

/** A manifest or index found damaged or missing: what repair heals from a peer. */
export interface DamagedFile {
  readonly vm: string;
  readonly backupId: string;
  /** 'manifest.json' or '<disk>.fidx'. */
  readonly file: string;
  /** The disk of an index; null for the manifest. */
  readonly disk: string | null;
  readonly problem: string;
}

export interface OpenDatastoreOptions {
  /** Chunk size of a datastore created now; an existing one keeps its own. */
  readonly chunkSizeBytes: number;
  /** Key fingerprint (32 hex) of a datastore created now; an existing one must match it. */
  readonly keyFingerprint?: string | null;
  readonly clock: Clock;
  readonly log: Logger;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export class Datastore {
  readonly catalog = new BackupCatalog();
  /** The checks storage makes on every blob it receives, verifies or syncs. */
  readonly blobChecker: BlobChecker;
  private readonly sessions = new Map<string, BackupSession>();
  private readonly marksById = new Map<string, BackupMarks>();
  private readonly transientHolds = new Set<ChunkHold>();
  private gc: GcMarks | undefined;
  private readonly tmpDir: string;
  private lock: Promise<unknown> = Promise.resolve();
  /** Manifests found damaged or missing when the datastore opened, for repair to heal. */
  readonly damagedAtOpen: DamagedFile[] = [];

  private constructor(
    readonly dir: string,
    readonly info: DatastoreInfo,
    readonly chunks: ChunkStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Backups this datastore removed under its own retention: never imported again (pruned-log.ts). */
    readonly prunedLog: PrunedLog,
  ) {
    this.tmpDir = join(dir, 'tmp');
    this.blobChecker = new BlobChecker(info.keyFingerprint, info.chunkSizeBytes);
  }

  /** Opens the datastore in `dir`, creating it when the directory is missing or empty. */
  static async open(dir: string, options: OpenDatastoreOptions): Promise<Datastore> {
    const { clock, log } = options;
    let file = await readOptional(join(dir, 'datastore.json'));
    if (file === undefined) {
      const stray = (await listDir(dir)).filter((name) => !(SKELETON as readonly string[]).includes(name));
      if (stray.length > 0) {
        throw new PreconditionError(`${dir} is not empty and has no datastore.json; refusing to make it a datastore`, {
          dir,
          entries: stray.slice(0, 5),
        });
      }
      for (const name of SKELETON) await mkdir(join(dir, name), { recursive: true });
      await fsyncDir(dir);
      file = encodeDatastoreFile({
        id: newId(clock.nowMs()),
        chunkSizeBytes: options.chunkSizeBytes,
        createdAt: clock.nowIso(),
        keyFingerprint: options.keyFingerprint ?? null,
      });
      await writeFileAtomic(join(dir, 'datastore.json'), file, { tmpDir: join(dir, 'tmp') });
      log.info({ dir, chunkSizeBytes: options.chunkSizeBytes, keyFingerprint: options.keyFingerprint ?? null }, 'datastore created');
    }
    const body = decodeDatastoreFile(file, join(dir, 'datastore.json'));
    const configured = options.keyFingerprint ?? null;
    if (body.keyFingerprint !== configured) {
      throw new ConfigError(
        'storage config',
        'keyFingerprint',
        `is ${configured ?? 'absent (unencrypted)'} but datastore ${dir} was created ${
          body.keyFingerprint === null ? 'unencrypted' : `for key ${body.keyFingerprint}`
        }; a datastore keeps the key it was created with`,
      );
    }
    for (const name of SKELETON) await mkdir(join(dir, name), { recursive: true });
    const chunks = new FsChunkStore(join(dir, 'chunks'), join(dir, 'tmp'), join(dir, 'quarantine'), clock);
    const storeLog = log.child({ datastoreId: body.id });
    // Before recover() empties tmp/: a removal a crash interrupted is recorded from its leftover.
    const prunedLog = await PrunedLog.open(dir, join(dir, 'tmp'), clock, storeLog);
    await prunedLog.recordLeftovers();
    const store = new Datastore(
      dir,
      { id: body.id, formatVersion: DATASTORE_VERSION, chunkSizeBytes: body.chunkSizeBytes, keyFingerprint: body.keyFingerprint },
      chunks,
      clock,
      storeLog,
      prunedLog,
    );
    await store.recover();
    return store;
  }

  /** Startup: empty tmp/, load committed backups, drop commit leftovers, reload open sessions. */
  private async recover(): Promise<void> {
    for (const name of await listDir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    for (const entry of await this.scanAllBackupDirs()) {
      if (!entry.hasManifest) {
        this.damagedAtOpen.push({ vm: entry.vm, backupId: entry.backupId, file: MANIFEST_FILE, disk: null, problem: 'missing' });
        this.log.warn({ backupId: entry.backupId, vm: entry.vm }, 'backup directory without a manifest: left for repair');
        continue;
      }
      try {
        const manifest = await this.readManifestAt(entry);
        this.catalog.add(manifest);
        this.marksById.set(manifest.backupId, await this.readMarks(entry));
      } catch (err) {
        this.damagedAtOpen.push({ vm: entry.vm, backupId: entry.backupId, file: MANIFEST_FILE, disk: null, problem: problemOf(err) });
        this.log.warn({ err, backupId: entry.backupId, vm: entry.vm }, 'damaged manifest left for repair');
      }
    }
    const damaged = this.damagedAtOpen.length;
    const sessionsDir = join(this.dir, 'sessions');
    for (const sessionId of await listDir(sessionsDir)) {
      const sessionDir = join(sessionsDir, sessionId);
      try {
        const file = await readOptional(join(sessionDir, SESSION_FILE));
        if (file === undefined) throw new CorruptDataError(`session ${sessionId}`, 'session.json missing');
        const body = decodeSessionFile(file, `session ${sessionId}`);
        if (body.sessionId !== sessionId) throw new CorruptDataError(`session ${sessionId}`, 'id does not match its directory');
        if (this.catalog.findByJob(body.jobId, body.attempt)) throw new PreconditionError('session already committed');
        const session: BackupSession = { ...body, indexed: new Map(), hold: new ChunkHold(join(sessionDir, CHUNK_LOG_FILE)) };
        const logged = await readOptional(join(sessionDir, CHUNK_LOG_FILE));
        if (logged) session.hold.cover(ChunkHold.parseLog(logged));
        for (const disk of body.disks) {
          const fidx = await readOptional(join(sessionDir, `${disk.name}.fidx`));
          if (fidx === undefined) continue;
          try {
            const index = decodeFixedIndex(fidx);
            session.indexed.set(disk.name, IndexUpload.describe(index, fidx));
            session.hold.cover(digestsOf(index));
          } catch (err) {
            this.log.warn({ err, sessionId, disk: disk.name }, 'damaged session index dropped');
            await rm(join(sessionDir, `${disk.name}.fidx`), { force: true });
          }
        }
        this.sessions.set(sessionId, session);
      } catch (err) {
        this.log.info({ sessionId, reason: String(err) }, 'stale session removed');
        await rm(sessionDir, { recursive: true, force: true });
      }
    }
    this.log.info({ backups: this.catalog.size, damaged, sessions: this.sessions.size }, 'datastore opened');
  }

  /** Every backups/<vm>/<backupId>/ that has a manifest file (sound or not). */
  async scanBackupDirs(): Promise<BackupDir[]> {
    return (await this.scanAllBackupDirs()).filter((e) => e.hasManifest);
  }

  /** Every backups/<vm>/<backupId>/, with whether its manifest file exists (one without is damage). */
  async scanAllBackupDirs(): Promise<(BackupDir & { readonly hasManifest: boolean })[]> {
    const root = join(this.dir, 'backups');
    const found: (BackupDir & { hasManifest: boolean })[] = [];
    for (const vm of (await listDir(root)).sort()) {
      for (const backupId of (await listDir(join(root, vm))).sort()) {
        const dir = join(root, vm, backupId);
        const hasManifest = await stat(join(dir, MANIFEST_FILE)).then(
          (st) => st.isFile(),
          () => false,
        );
        found.push({ vm, backupId, dir, hasManifest });
      }
    }
    return found;
  }

  /** The directory of a backup by id, committed or not (a lost manifest); undefined when there is none. */
  async findBackupDir(backupId: string): Promise<BackupDir | undefined> {
    const known = this.catalog.get(backupId);
    if (known) return { vm: known.vm, backupId, dir: this.backupDir(known.vm, backupId) };
    const root = join(this.dir, 'backups');
    for (const vm of await listDir(root)) {
      const dir = join(root, vm, backupId);
      if (await stat(dir).then((st) => st.isDirectory(), () => false)) return { vm, backupId, dir };
    }
    return undefined;
  }

  /**
   * Every .fidx file under backups/, whether or not its directory has a sound manifest (a
   * commit in progress, a damaged manifest): what garbage collection must treat as referenced.
   */
  async *allIndexFiles(): AsyncIterable<{ readonly backupId: string; readonly name: string; readonly file: Buffer }> {
    const root = join(this.dir, 'backups');
    for (const vm of await listDir(root)) {
      for (const backupId of await listDir(join(root, vm))) {
        for (const name of await listDir(join(root, vm, backupId))) {
          if (!name.endsWith('.fidx')) continue;
          const file = await readOptional(join(root, vm, backupId, name));
          if (file) yield { backupId, name, file };
        }
      }
    }
  }

  private backupDir(vm: string, backupId: string): string {
    return join(this.dir, 'backups', vm, backupId);
  }

  /** Reads and checks the manifest in a backup directory; it must name that directory. */
  async readManifestAt(entry: BackupDir): Promise<Manifest> {
    const what = `manifest of backup ${entry.backupId}`;
    const manifest = decodeManifest(await readFile(join(entry.dir, MANIFEST_FILE)), what);
    if (manifest.backupId !== entry.backupId || manifest.vm !== entry.vm) {
      throw new CorruptDataError(what, 'does not match its directory');
    }
    return manifest;
  }

  /** Runs `fn` alone among commits and imports (the catalog check and the write are one step). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Of the given digests, those not held durably (each once, zero digests never). With a
   * session, the digests are held for it first (and recorded in its chunk log), so those
   * reported present stay until it ends.
   */
  async findMissing(digests: readonly Buffer[], sessionId?: string): Promise<Buffer[]> {
    const hold = sessionId === undefined ? undefined : this.session(sessionId).hold;
    const seen = new Set<string>();
    const unique = digests.filter((d) => {
      const hex = digestHex(d);
      if (seen.has(hex) || isZeroDigest(d)) return false;
      seen.add(hex);
      hold?.add(hex);
      return true;
    });
    const present = await Promise.all(unique.map((d) => this.chunks.has(d)));
    await hold?.persist();
    return unique.filter((_, i) => !present[i]);
  }

  /** A stored blob after the shape checks (structure, CRC, kind); ChunkMissingError or CorruptDataError otherwise. */
  async readBlobChecked(digest: Buffer): Promise<Buffer> {
    const blob = await this.chunks.get(digest);
    if (blob === undefined) throw new ChunkMissingError([digestHex(digest)]);
    this.blobChecker.checkShape(digest, blob);
    return blob;
  }

  /** A checker and writer for a stream of uploaded blobs (PutChunks) of an open session. */
  chunkIntake(sessionId?: string): ChunkIntake {
    const hold = sessionId === undefined ? undefined : this.session(sessionId).hold;
    return new ChunkIntake(this.chunks, this.blobChecker, hold);
  }

  /** A hold on chunks for work outside a session (site sync): release it when done. */
  holdChunks(): ChunkHold {
    const hold = new ChunkHold();
    this.transientHolds.add(hold);
    return hold;
  }

  releaseHold(hold: ChunkHold): void {
    hold.released = true;
    this.transientHolds.delete(hold);
  }

  /** Whether an open session or a running import holds the digest (hex). */
  isHeld(hex: string): boolean {
    for (const session of this.sessions.values()) if (session.hold.has(hex)) return true;
    for (const hold of this.transientHolds) if (hold.has(hex)) return true;
    return false;
  }

  /** Starts a garbage collection (one at a time): from now on every commit also marks its chunks. */
  beginGc(): GcMarks {
    if (this.gc) throw new PreconditionError('a garbage collection is already running');
    const marks = new Set<string>();
    const gc: GcMarks = { marks, isReferenced: (hex) => marks.has(hex) || this.isHeld(hex) };
    this.gc = gc;
    return gc;
  }

  endGc(gc: GcMarks): void {
    if (this.gc === gc) this.gc = undefined;
  }

  /** Opens an upload session, or reports the backup this job attempt already committed. */
  async beginBackup(spec: SessionSpec): Promise<BeginBackupOutcome> {
    return this.exclusive(async () => {
      const committed = this.catalog.findByJob(spec.jobId, spec.attempt);
      if (committed) return { kind: 'committed', backup: committed };
      if (spec.parentBackupId !== null && !this.catalog.get(spec.parentBackupId)) {
        throw new NotFoundError('parent backup', spec.parentBackupId);
      }
      const names = new Set(spec.disks.map((d) => d.name));
      if (names.size !== spec.disks.length) throw new ValidationError('disks', 'disk names must be unique');
      // A redelivered attempt replaces its earlier open session: only one of them can commit.
      if (spec.jobId !== '') {
        for (const old of [...this.sessions.values()]) {
          if (old.jobId === spec.jobId && old.attempt === spec.attempt) await this.dropSession(old.sessionId);
        }
      }
      const sessionId = newId(this.clock.nowMs());
      const dir = this.sessionDir(sessionId);
      const session: BackupSession = {
        ...spec,
        sessionId,
        createdAt: this.clock.nowIso(),
        chunkSizeBytes: this.info.chunkSizeBytes,
        indexed: new Map(),
        hold: new ChunkHold(join(dir, CHUNK_LOG_FILE)),
      };
      await mkdir(dir, { recursive: true });
      const { indexed: _indexed, hold: _hold, ...body } = session;
      await writeFileAtomic(join(dir, SESSION_FILE), encodeSessionFile(body), { tmpDir: this.tmpDir });
      await fsyncDir(join(this.dir, 'sessions'));
      this.sessions.set(session.sessionId, session);
      this.log.info({ sessionId: session.sessionId, vm: spec.vm, jobId: spec.jobId, attempt: spec.attempt }, 'backup session opened');
      return { kind: 'session', sessionId: session.sessionId, chunkSizeBytes: session.chunkSizeBytes };
    });
  }

  private sessionDir(sessionId: string): string {
    return join(this.dir, 'sessions', sessionId);
  }

  /** The open session with this id; NotFoundError otherwise. */
  session(sessionId: string): BackupSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new NotFoundError('session', sessionId);
    return session;
  }

  /** Starts receiving the index of one or more disks of a session (PutIndex). */
  openIndexUpload(sessionId: string): IndexUpload {
    const session = this.session(sessionId);
    return new IndexUpload(session, async (disk, file, described, index) => {
      if (this.sessions.get(sessionId) !== session) throw new NotFoundError('session', sessionId);
      session.hold.cover(digestsOf(index));
      await writeFileAtomic(join(this.sessionDir(sessionId), `${disk}.fidx`), file, { tmpDir: this.tmpDir });
      session.indexed.set(disk, described);
    });
  }

  /**
   * Commits a session: every disk indexed, every referenced chunk durable, then the indexes and
   * the manifest LAST into backups/<vm>/<backupId>/. Only then is the session removed.
   */
  async commitBackup(sessionId: string, stats: Record<string, number | string>, contentHmac: string | null = null): Promise<Manifest> {
    if (this.info.keyFingerprint !== null && contentHmac === null) {
      throw new ValidationError('content_hmac', 'required: the datastore is encrypted, and its manifests carry the writer\'s content HMAC');
    }
    if (this.info.keyFingerprint === null && contentHmac !== null) {
      throw new ValidationError('content_hmac', 'must be empty: the datastore is not encrypted');
    }
    return this.exclusive(async () => {
      const session = this.session(sessionId);
      const already = this.catalog.findByJob(session.jobId, session.attempt);
      if (already) {
        await this.dropSession(sessionId);
        return already;
      }
      // An empty disk has nothing to upload: its index (no digests) is made here.
      const empty = session.disks.filter((d) => d.sizeBytes === 0 && !session.indexed.has(d.name));
      if (empty.length > 0) {
        const upload = this.openIndexUpload(sessionId);
        for (const d of empty) upload.addPart(d.name, 0, Buffer.alloc(0));
        await upload.finish();
      }
      const unindexed = session.disks.filter((d) => !session.indexed.has(d.name)).map((d) => d.name);
      if (unindexed.length > 0) {
        throw new PreconditionError(`session ${sessionId}: no index for disk(s) ${unindexed.join(', ')}`, { disks: unindexed });
      }
      const files = new Map<string, Buffer>();
      const indexes = new Map<string, FixedIndex>();
      for (const disk of session.disks) {
        const file = await readFile(join(this.sessionDir(sessionId), `${disk.name}.fidx`));
        files.set(disk.name, file);
        indexes.set(disk.name, decodeFixedIndex(file, `index of disk ${disk.name} in session ${sessionId}`));
      }
      await this.requireChunks(indexes.values(), { sessionId });
      const body: ManifestBody = {
        format: 'bulwark-manifest',
        version: 1,
        backupId: newId(this.clock.nowMs()),
        vm: session.vm,
        datastoreId: this.info.id,
        createdAt: this.clock.nowIso(),
        jobId: session.jobId,
        attempt: session.attempt,
        mode: session.mode,
        parentBackupId: session.parentBackupId,
        changeTracking: session.changeTracking,
        changeTrackingNote: session.changeTrackingNote,
        ...(session.checkpoint ? { checkpoint: session.checkpoint } : {}),
        ...(session.consistency ? { consistency: session.consistency } : {}),
        ...(session.vmDefinition ? { vmDefinition: session.vmDefinition } : {}),
        chunkSizeBytes: session.chunkSizeBytes,
        ...(this.info.keyFingerprint === null ? {} : { keyFingerprint: this.info.keyFingerprint, contentHmac }),
        disks: session.disks.map((d) => {
          const described = session.indexed.get(d.name);
          const file = files.get(d.name);
          if (!described || !file) throw new PreconditionError(`session ${sessionId}: disk ${d.name} not indexed`);
          return {
            name: d.name,
            sizeBytes: d.sizeBytes,
            chunkCount: described.chunkCount,
            zeroChunks: described.zeroChunks,
            indexSha256: fixedIndexFileSha256(file),
          };
        }),
        stats,
      };
      const manifestFile = encodeManifest(body);
      const manifest = decodeManifest(manifestFile);
      await this.writeBackup(manifest, manifestFile, files);
      await this.dropSession(sessionId);
      this.log.info({ backupId: manifest.backupId, vm: manifest.vm, jobId: manifest.jobId, attempt: manifest.attempt }, 'backup committed');
      return manifest;
    });
  }

  /**
   * Adds a backup made elsewhere (site sync): same id, same manifest bytes. Checks the files and
   * that every chunk is here; writes the indexes, then the manifest LAST. A backup already
   * present is left alone, and so is one this datastore removed (`prunedHere`: its retention is
   * its own, a sync never brings a pruned backup back).
   */
  async importBackup(
    manifestFile: Buffer,
    indexFiles: ReadonlyMap<string, Buffer>,
  ): Promise<{ manifest: Manifest; imported: boolean; prunedHere: boolean }> {
    return this.exclusive(async () => {
      const manifest = decodeManifest(manifestFile);
      const existing = this.catalog.get(manifest.backupId);
      if (existing) return { manifest: existing, imported: false, prunedHere: false };
      if (this.prunedLog.has(manifest.backupId)) return { manifest, imported: false, prunedHere: true };
      if ((manifest.keyFingerprint ?? null) !== this.info.keyFingerprint) {
        throw new PreconditionError(
          `backup ${manifest.backupId} was written for key ${manifest.keyFingerprint ?? '(none: unencrypted)'}, this datastore is for ${
            this.info.keyFingerprint ?? '(none: unencrypted)'
          }`,
          { backupId: manifest.backupId, backupKeyFingerprint: manifest.keyFingerprint ?? null, keyFingerprint: this.info.keyFingerprint },
        );
      }
      const indexes: FixedIndex[] = [];
      for (const disk of manifest.disks) {
        const file = indexFiles.get(disk.name);
        const what = `index of disk ${disk.name} of backup ${manifest.backupId}`;
        if (!file) throw new PreconditionError(`${what} not supplied`);
        if (fixedIndexFileSha256(file) !== disk.indexSha256) throw new CorruptDataError(what, 'does not match the manifest');
        indexes.push(decodeFixedIndex(file, what));
      }
      await this.requireChunks(indexes, { backupId: manifest.backupId });
      await this.writeBackup(manifest, manifestFile, indexFiles);
      this.log.info({ backupId: manifest.backupId, vm: manifest.vm }, 'backup imported');
      return { manifest, imported: true, prunedHere: false };
    });
  }

  private async requireChunks(indexes: Iterable<FixedIndex>, context: Record<string, unknown>): Promise<void> {
    const digests: Buffer[] = [];
    for (const index of indexes) {
      for (let i = 0; i < index.chunkCount; i++) digests.push(index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    }
    const missing = await this.findMissing(digests);
    if (missing.length > 0) throw new ChunkMissingError(missing.map(digestHex), context);
  }

  /**
   * Builds the backup directory in tmp/ (indexes, then the manifest, all durable) and renames it
   * into backups/<vm>/ in one step: a crash leaves no half-written backup there. A directory
   * already at that place (a backup whose manifest was lost) is moved to quarantine, never
   * deleted. While a garbage collection runs, the new backup's chunks are marked before the
   * caller drops its session or hold, so the collector never sees them unreferenced.
   */
  private async writeBackup(manifest: Manifest, manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<void> {
    const dir = this.backupDir(manifest.vm, manifest.backupId);
    if ((await readOptional(join(dir, LOCK_FILE))) !== undefined) {
      throw new PreconditionError(`backup directory ${manifest.backupId} holds a lock: refusing to replace it`, { backupId: manifest.backupId });
    }
    const staged = join(this.tmpDir, `commit-${manifest.backupId}-${randomBytes(4).toString('hex')}`);
    await mkdir(staged);
    try {
      for (const disk of manifest.disks) {
        const file = indexFiles.get(disk.name);
        if (!file) throw new PreconditionError(`index of disk ${disk.name} missing`);
        await writeFileAtomic(join(staged, `${disk.name}.fidx`), file, { tmpDir: this.tmpDir, syncDir: false });
      }
      await writeFileAtomic(join(staged, MANIFEST_FILE), manifestFile, { tmpDir: this.tmpDir, syncDir: false });
      await fsyncDir(staged);
      const vmDir = join(this.dir, 'backups', manifest.vm);
      if ((await mkdir(vmDir, { recursive: true })) !== undefined) await fsyncDir(join(this.dir, 'backups'));
      if (await stat(dir).then(() => true, () => false)) await this.quarantinePath(dir, `${manifest.backupId}`, 'replaced by a sound copy of the backup');
      await rename(staged, dir);
      await fsyncDir(vmDir);
    } catch (err) {
      await rm(staged, { recursive: true, force: true });
      throw err;
    }
    this.catalog.add(manifest);
    this.marksById.set(manifest.backupId, { verifiedAt: null, lock: null });
    const gc = this.gc;
    if (gc) {
      for (const disk of manifest.disks) {
        const file = indexFiles.get(disk.name);
        if (file) for (const hex of digestsOf(decodeFixedIndex(file))) gc.marks.add(hex);
      }
    }
  }

  /** Drops an open session and its staged indexes (chunks stay: they are content-addressed). */
  async abortBackup(sessionId: string): Promise<void> {
    await this.exclusive(async () => {
      this.session(sessionId);
      await this.dropSession(sessionId);
      this.log.info({ sessionId }, 'backup session aborted');
    });
  }

  private async dropSession(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (session) session.hold.released = true;
    this.sessions.delete(sessionId);
    await rm(this.sessionDir(sessionId), { recursive: true, force: true });
    await fsyncDir(join(this.dir, 'sessions'));
  }

  /** Open sessions (for tests and, later, garbage collection). */
  openSessions(): BackupSession[] {
    return [...this.sessions.values()];
  }

  /** A committed backup; NotFoundError otherwise. */
  backup(backupId: string): Manifest {
    const manifest = this.catalog.get(backupId);
    if (!manifest) throw new NotFoundError('backup', backupId);
    return manifest;
  }

  /** The manifest file of a committed backup, byte for byte. */
  async readManifestFile(backupId: string): Promise<Buffer> {
    const manifest = this.backup(backupId);
    const file = await readOptional(join(this.backupDir(manifest.vm, backupId), MANIFEST_FILE));
    if (file === undefined) throw new NotFoundError('manifest of backup', backupId);
    return file;
  }

  /** The .fidx file of one disk of a committed backup, byte for byte. */
  async readIndexFile(backupId: string, disk: string): Promise<Buffer> {
    const manifest = this.backup(backupId);
    if (!manifest.disks.some((d) => d.name === disk)) throw new NotFoundError(`disk of backup ${backupId}`, disk);
    return this.readIndexFileAt({ vm: manifest.vm, backupId, dir: this.backupDir(manifest.vm, backupId) }, disk);
  }

  /** The .fidx file of a disk in a backup directory; NotFoundError when it is gone. */
  async readIndexFileAt(entry: BackupDir, disk: string): Promise<Buffer> {
    const file = await readOptional(join(entry.dir, `${disk}.fidx`));
    if (file === undefined) throw new NotFoundError(`index of backup ${entry.backupId}`, disk);
    return file;
  }

  /** The verify and lock state of a committed backup. */
  marksOf(backupId: string): BackupMarks {
    this.backup(backupId);
    return this.marksById.get(backupId) ?? { verifiedAt: null, lock: null };
  }

  private async readMarks(entry: BackupDir): Promise<BackupMarks> {
    const marks: BackupMarks = { verifiedAt: null, lock: null };
    const verified = await readOptional(join(entry.dir, VERIFIED_FILE));
    if (verified) {
      try {
        const body = decodeVerifiedFile(verified, `${VERIFIED_FILE} of backup ${entry.backupId}`);
        if (body.backupId === entry.backupId) marks.verifiedAt = body.verifiedAt;
      } catch (err) {
        this.log.warn({ err, backupId: entry.backupId }, 'damaged verified.json ignored');
      }
    }
    const lock = await readOptional(join(entry.dir, LOCK_FILE));
    if (lock) {
      try {
        const body = decodeLockFile(lock, `${LOCK_FILE} of backup ${entry.backupId}`);
        if (body.backupId !== entry.backupId) throw new CorruptDataError(`${LOCK_FILE} of backup ${entry.backupId}`, 'names another backup');
        marks.lock = { until: body.lockedUntil, untilMs: Date.parse(body.lockedUntil) };
      } catch (err) {
        this.log.warn({ err, backupId: entry.backupId }, 'damaged lock.json: the backup stays locked');
        marks.lock = 'damaged';
      }
    }
    return marks;
  }

  /** Whether the backup is locked now (storage's clock); a damaged lock file counts as locked. */
  isLocked(backupId: string): boolean {
    const lock = this.marksById.get(backupId)?.lock ?? null;
    return lock === 'damaged' || (lock !== null && lock.untilMs > this.clock.nowMs());
  }

  /** Records that a verify found the backup sound at `verifiedAt` (verified.json, atomic). */
  async recordVerified(backupId: string, verifiedAt: string): Promise<void> {
    const manifest = this.backup(backupId);
    await writeFileAtomic(join(this.backupDir(manifest.vm, backupId), VERIFIED_FILE), encodeVerifiedFile({ backupId, verifiedAt }), {
      tmpDir: this.tmpDir,
    });
    const marks = this.marksById.get(backupId) ?? { verifiedAt: null, lock: null };
    marks.verifiedAt = verifiedAt;
    this.marksById.set(backupId, marks);
  }

  /** Forgets a backup's verifiedAt (a verify found it damaged). */
  async clearVerified(backupId: string): Promise<void> {
    const manifest = this.catalog.get(backupId);
    if (!manifest) return;
    await rm(join(this.backupDir(manifest.vm, backupId), VERIFIED_FILE), { force: true });
    const marks = this.marksById.get(backupId);
    if (marks) marks.verifiedAt = null;
  }

  /**
   * Locks a backup until `until` (ISO-8601): until then nothing deletes it or a chunk it
   * references. A lock can be extended, never shortened or removed before it ends.
   */
  async lockBackup(backupId: string, until: string): Promise<{ lockedUntil: string }> {
    const untilMs = Date.parse(until);
    if (!Number.isFinite(untilMs)) throw new ValidationError('until', 'must be an ISO-8601 time');
    return this.exclusive(async () => {
      const manifest = this.backup(backupId);
      const nowMs = this.clock.nowMs();
      if (untilMs <= nowMs) throw new ValidationError('until', `must be later than now (${this.clock.nowIso()})`);
      const marks = this.marksById.get(backupId) ?? { verifiedAt: null, lock: null };
      const current = marks.lock;
      if (current === 'damaged') {
        throw new PreconditionError(`backup ${backupId} has a damaged lock file: it stays locked and cannot be re-locked`, { backupId });
      }
      if (current !== null && current.untilMs > nowMs && current.untilMs > untilMs) {
        throw new PreconditionError(`backup ${backupId} is locked until ${current.until}: a lock can be extended, never shortened (asked ${until})`, {
          backupId,
          lockedUntil: current.until,
          requested: until,
        });
      }
      const lockedUntil = new Date(untilMs).toISOString();
      if (current !== null && current.untilMs === untilMs) return { lockedUntil };
      const dir = this.backupDir(manifest.vm, backupId);
      let lockedAt = this.clock.nowIso();
      const previous = await readOptional(join(dir, LOCK_FILE));
      if (previous && current !== null && current.untilMs > nowMs) lockedAt = decodeLockFile(previous, LOCK_FILE).lockedAt;
      await writeFileAtomic(join(dir, LOCK_FILE), encodeLockFile({ backupId, lockedUntil, lockedAt, updatedAt: this.clock.nowIso() }), {
        tmpDir: this.tmpDir,
      });
      marks.lock = { until: lockedUntil, untilMs };
      this.marksById.set(backupId, marks);
      this.log.info({ backupId, lockedUntil }, 'backup locked');
      return { lockedUntil };
    });
  }

  /**
   * Moves a damaged file or directory to quarantine/<name>.<ms> with a .reason file beside it,
   * durably: damaged data is kept aside for inspection, never deleted or overwritten in place.
   */
  private async quarantinePath(path: string, name: string, problem: string): Promise<void> {
    const target = join(this.dir, 'quarantine', `${name}.${this.clock.nowMs()}.${randomBytes(3).toString('hex')}`);
    try {
      await rename(path, target);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await writeFileAtomic(`${target}.reason`, Buffer.from(`${problem}\n`), { tmpDir: this.tmpDir });
    await fsyncDir(dirname(path));
  }

  /** The manifest file of a backup by id, after its own checks; NotFoundError when missing, CorruptDataError when damaged. */
  async readManifestChecked(backupId: string): Promise<{ readonly entry: BackupDir; readonly file: Buffer; readonly manifest: Manifest }> {
    const entry = await this.findBackupDir(backupId);
    if (!entry) throw new NotFoundError('backup', backupId);
    const file = await readOptional(join(entry.dir, MANIFEST_FILE));
    if (file === undefined) throw new NotFoundError('manifest of backup', backupId);
    const what = `manifest of backup ${backupId}`;
    const manifest = decodeManifest(file, what);
    if (manifest.backupId !== entry.backupId || manifest.vm !== entry.vm) throw new CorruptDataError(what, 'does not match its directory');
    return { entry, file, manifest };
  }

  /** The .fidx file of one disk of a committed backup, checked against its manifest (NotFoundError, CorruptDataError). */
  async readIndexChecked(backupId: string, disk: string): Promise<Buffer> {
    const manifest = this.backup(backupId);
    const described = manifest.disks.find((d) => d.name === disk);
    if (!described) throw new NotFoundError(`disk of backup ${backupId}`, disk);
    const file = await this.readIndexFileAt({ vm: manifest.vm, backupId, dir: this.backupDir(manifest.vm, backupId) }, disk);
    const what = `index of disk ${disk} of backup ${backupId}`;
    decodeFixedIndex(file, what);
    if (fixedIndexFileSha256(file) !== described.indexSha256) throw new CorruptDataError(what, 'does not match the manifest');
    return file;
  }

  /**
   * Puts a good manifest (from a peer) in place of a lost or damaged one: it must decode, name
   * this backup's directory and this datastore's key; the damaged file goes to quarantine. The
   * backup joins the catalog. Its indexes are checked separately (readIndexChecked).
   */
  async replaceManifest(entry: BackupDir, file: Buffer, problem: string): Promise<Manifest> {
    return this.exclusive(async () => {
      const what = `manifest of backup ${entry.backupId} from a peer`;
      const manifest = decodeManifest(file, what);
      if (manifest.backupId !== entry.backupId || manifest.vm !== entry.vm) throw new CorruptDataError(what, 'names another backup');
      if ((manifest.keyFingerprint ?? null) !== this.info.keyFingerprint) throw new CorruptDataError(what, 'was written for another key');
      const path = join(entry.dir, MANIFEST_FILE);
      await this.quarantinePath(path, `${entry.backupId}.${MANIFEST_FILE}`, problem);
      await writeFileAtomic(path, file, { tmpDir: this.tmpDir });
      if (!this.catalog.get(manifest.backupId)) {
        this.catalog.add(manifest);
        this.marksById.set(manifest.backupId, await this.readMarks(entry));
      }
      this.log.info({ backupId: entry.backupId, problem }, 'manifest replaced by a good copy');
      return manifest;
    });
  }

  /** Puts a good index (from a peer) in place of a lost or damaged one; it must match the manifest. */
  async replaceIndex(backupId: string, disk: string, file: Buffer, problem: string): Promise<void> {
    await this.exclusive(async () => {
      const manifest = this.backup(backupId);
      const described = manifest.disks.find((d) => d.name === disk);
      if (!described) throw new NotFoundError(`disk of backup ${backupId}`, disk);
      const what = `index of disk ${disk} of backup ${backupId} from a peer`;
      if (fixedIndexFileSha256(file) !== described.indexSha256) throw new CorruptDataError(what, 'does not match the manifest');
      decodeFixedIndex(file, what);
      const path = join(this.backupDir(manifest.vm, backupId), `${disk}.fidx`);
      await this.quarantinePath(path, `${backupId}.${disk}.fidx`, problem);
      await writeFileAtomic(path, file, { tmpDir: this.tmpDir });
      this.log.info({ backupId, disk, problem }, 'index replaced by a good copy');
    });
  }

  /** Backups that open sessions build on (their parents): not to be deleted while those run. */
  openSessionParents(): Set<string> {
    const parents = new Set<string>();
    for (const s of this.sessions.values()) if (s.parentBackupId !== null) parents.add(s.parentBackupId);
    return parents;
  }

  /**
   * Deletes a committed backup (prune). Refuses a locked backup and the parent of an open
   * session. The whole directory is first renamed into tmp/ (one atomic step that removes the
   * manifest and everything with it from backups/), the rename made durable, then deleted: a
   * crash leaves the backup whole or gone, never a half. Its chunks are left to GC.
   */
  async removeBackup(backupId: string): Promise<void> {
    await this.exclusive(async () => {
      const manifest = this.backup(backupId);
      if (this.isLocked(backupId)) {
        const lock = this.marksById.get(backupId)?.lock;
        throw new PreconditionError(
          `backup ${backupId} is locked ${lock && lock !== 'damaged' ? `until ${lock.until}` : '(damaged lock file)'}: it cannot be deleted`,
          { backupId },
        );
      }
      if (this.openSessionParents().has(backupId)) {
        throw new PreconditionError(`backup ${backupId} is the parent of an open backup session: not deleted now`, { backupId });
      }
      const dir = this.backupDir(manifest.vm, backupId);
      const doomed = join(this.tmpDir, prunedDirName(backupId, randomBytes(4).toString('hex')));
      await rename(dir, doomed);
      await fsyncDir(join(this.dir, 'backups', manifest.vm));
      // Recorded only once out of backups/ durably; a crash before the record leaves the
      // directory in tmp/, which the next open records (pruned-log.ts).
      await fsyncDir(this.tmpDir);
      try {
        await this.prunedLog.record({ backupId, vm: manifest.vm, originDatastoreId: manifest.datastoreId });
      } catch (err) {
        // Not recorded: put the backup back (present and unrecorded); failing that, the next open records it.
        await rename(doomed, dir).then(() => fsyncDir(join(this.dir, 'backups', manifest.vm)), () => undefined);
        throw err;
      }
      this.catalog.remove(backupId);
      this.marksById.delete(backupId);
      await rm(doomed, { recursive: true, force: true });
      this.log.info({ backupId, vm: manifest.vm }, 'backup removed');
    });
  }
}

function problemOf(err: unknown): string {
  if (err instanceof CorruptDataError && typeof err.details.problem === 'string') return err.details.problem;
  return err instanceof Error ? err.message : String(err);
}

/** The non-zero digests of an index, as hex. */
export function digestsOf(index: FixedIndex): string[] {
  const out: string[] = [];
  for (let i = 0; i < index.chunkCount; i++) {
    const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
    if (!isZeroDigest(d)) out.push(digestHex(d));
  }
  return out;
}
