/**
 * The datastore: one directory holding chunk blobs by digest, and backups as a fixed index per
 * disk plus a manifest (docs/DATASTORE.md).
 *
 *   datastore.json                 id, format version, chunk size (written last at creation)
 *   chunks/ab/cd/<64 hex>          one blob per chunk (ChunkStore)
 *   backups/<vm>/<backupId>/       <disk>.fidx files, then manifest.json LAST
 *   sessions/<sessionId>/          session.json + uploaded <disk>.fidx of an open upload
 *   tmp/  quarantine/              staging for atomic writes; damaged blobs kept aside
 *
 * Key rules: every file is written through tmp/ (fsync, rename, directory fsync). A backup
 * exists once its manifest does: a backup directory without one is the leftover of a crashed
 * commit, ignored and removed at startup. A commit refuses unless every referenced chunk is
 * durable. Sessions are keyed by job id + attempt: a job attempt that already committed gets
 * its backup back instead of a second one.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { checkBlob } from '../../shared/format/blob.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest, encodeManifest, type Manifest, type ManifestBody } from '../../shared/format/manifest.js';
import { fsyncDir, writeFileAtomic } from '../../shared/fs/atomic-file.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { BackupCatalog } from './backup-catalog.js';
import { decodeSessionFile, encodeSessionFile, type BackupSession, type SessionSpec } from './backup-session.js';
import { ChunkIntake } from './chunk-intake.js';
import type { ChunkStore } from './chunk-store.js';
import { DATASTORE_VERSION, decodeDatastoreFile, encodeDatastoreFile } from './datastore-file.js';
import { FsChunkStore } from './fs-chunk-store.js';
import { IndexUpload } from './index-upload.js';

const SKELETON = ['chunks', 'backups', 'sessions', 'tmp', 'quarantine'] as const;
const MANIFEST_FILE = 'manifest.json';
const SESSION_FILE = 'session.json';

/** What GetDatastoreInfo reports. */
export interface DatastoreInfo {
  readonly id: string;
  readonly formatVersion: number;
  readonly chunkSizeBytes: number;
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

export interface OpenDatastoreOptions {
  /** Chunk size of a datastore created now; an existing one keeps its own. */
  readonly chunkSizeBytes: number;
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
  private readonly sessions = new Map<string, BackupSession>();
  private readonly tmpDir: string;
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly info: DatastoreInfo,
    readonly chunks: ChunkStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.tmpDir = join(dir, 'tmp');
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
        keyFingerprint: null,
      });
      await writeFileAtomic(join(dir, 'datastore.json'), file, { tmpDir: join(dir, 'tmp') });
      log.info({ dir, chunkSizeBytes: options.chunkSizeBytes }, 'datastore created');
    }
    const body = decodeDatastoreFile(file, join(dir, 'datastore.json'));
    for (const name of SKELETON) await mkdir(join(dir, name), { recursive: true });
    const chunks = new FsChunkStore(join(dir, 'chunks'), join(dir, 'tmp'), join(dir, 'quarantine'), clock);
    const store = new Datastore(
      dir,
      { id: body.id, formatVersion: DATASTORE_VERSION, chunkSizeBytes: body.chunkSizeBytes },
      chunks,
      clock,
      log.child({ datastoreId: body.id }),
    );
    await store.recover();
    return store;
  }

  /** Startup: empty tmp/, load committed backups, drop commit leftovers, reload open sessions. */
  private async recover(): Promise<void> {
    for (const name of await listDir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    let damaged = 0;
    for (const entry of await this.scanBackupDirs({ removeStray: true })) {
      try {
        const manifest = await this.readManifestAt(entry);
        this.catalog.add(manifest);
      } catch (err) {
        damaged++;
        this.log.warn({ err, backupId: entry.backupId, vm: entry.vm }, 'damaged manifest left for verify');
      }
    }
    const sessionsDir = join(this.dir, 'sessions');
    for (const sessionId of await listDir(sessionsDir)) {
      const sessionDir = join(sessionsDir, sessionId);
      try {
        const file = await readOptional(join(sessionDir, SESSION_FILE));
        if (file === undefined) throw new CorruptDataError(`session ${sessionId}`, 'session.json missing');
        const body = decodeSessionFile(file, `session ${sessionId}`);
        if (body.sessionId !== sessionId) throw new CorruptDataError(`session ${sessionId}`, 'id does not match its directory');
        if (this.catalog.findByJob(body.jobId, body.attempt)) throw new PreconditionError('session already committed');
        const session: BackupSession = { ...body, indexed: new Map() };
        for (const disk of body.disks) {
          const fidx = await readOptional(join(sessionDir, `${disk.name}.fidx`));
          if (fidx === undefined) continue;
          try {
            session.indexed.set(disk.name, IndexUpload.describe(decodeFixedIndex(fidx), fidx));
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

  /**
   * Every backups/<vm>/<backupId>/ that has a manifest file (sound or not). Directories without
   * one are leftovers of a crashed commit: never backups, removed when `removeStray`.
   */
  async scanBackupDirs(options: { removeStray?: boolean } = {}): Promise<BackupDir[]> {
    const root = join(this.dir, 'backups');
    const found: BackupDir[] = [];
    for (const vm of (await listDir(root)).sort()) {
      for (const backupId of (await listDir(join(root, vm))).sort()) {
        const dir = join(root, vm, backupId);
        const hasManifest = await stat(join(dir, MANIFEST_FILE)).then(
          (s) => s.isFile(),
          () => false,
        );
        if (hasManifest) {
          found.push({ vm, backupId, dir });
        } else if (options.removeStray === true) {
          this.log.info({ vm, backupId }, 'removing backup directory without manifest (crashed commit)');
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    return found;
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

  /** Of the given digests, those not held durably (each once, zero digests never). */
  async findMissing(digests: readonly Buffer[]): Promise<Buffer[]> {
    const seen = new Set<string>();
    const unique = digests.filter((d) => {
      const hex = digestHex(d);
      if (seen.has(hex) || isZeroDigest(d)) return false;
      seen.add(hex);
      return true;
    });
    const present = await Promise.all(unique.map((d) => this.chunks.has(d)));
    return unique.filter((_, i) => !present[i]);
  }

  /** A stored blob after its structure and CRC check; ChunkMissingError or CorruptDataError otherwise. */
  async readBlobChecked(digest: Buffer): Promise<Buffer> {
    const blob = await this.chunks.get(digest);
    if (blob === undefined) throw new ChunkMissingError([digestHex(digest)]);
    checkBlob(blob, `chunk ${digestHex(digest)}`);
    return blob;
  }

  /** A checker for a stream of uploaded blobs (PutChunks). */
  chunkIntake(): ChunkIntake {
    return new ChunkIntake(this.chunks, this.info.chunkSizeBytes);
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
      const session: BackupSession = {
        ...spec,
        sessionId: newId(this.clock.nowMs()),
        createdAt: this.clock.nowIso(),
        chunkSizeBytes: this.info.chunkSizeBytes,
        indexed: new Map(),
      };
      const dir = this.sessionDir(session.sessionId);
      await mkdir(dir, { recursive: true });
      const { indexed: _indexed, ...body } = session;
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
    return new IndexUpload(session, async (disk, file, described) => {
      if (this.sessions.get(sessionId) !== session) throw new NotFoundError('session', sessionId);
      await writeFileAtomic(join(this.sessionDir(sessionId), `${disk}.fidx`), file, { tmpDir: this.tmpDir });
      session.indexed.set(disk, described);
    });
  }

  /**
   * Commits a session: every disk indexed, every referenced chunk durable, then the indexes and
   * the manifest LAST into backups/<vm>/<backupId>/. Only then is the session removed.
   */
  async commitBackup(sessionId: string, stats: Record<string, number | string>): Promise<Manifest> {
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
        chunkSizeBytes: session.chunkSizeBytes,
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
   * present is left alone.
   */
  async importBackup(manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<{ manifest: Manifest; imported: boolean }> {
    return this.exclusive(async () => {
      const manifest = decodeManifest(manifestFile);
      const existing = this.catalog.get(manifest.backupId);
      if (existing) return { manifest: existing, imported: false };
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
      return { manifest, imported: true };
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

  /** Index files first, the manifest last: its presence is what makes the backup exist. */
  private async writeBackup(manifest: Manifest, manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<void> {
    const dir = this.backupDir(manifest.vm, manifest.backupId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await fsyncDir(join(this.dir, 'backups', manifest.vm));
    await fsyncDir(join(this.dir, 'backups'));
    for (const disk of manifest.disks) {
      const file = indexFiles.get(disk.name);
      if (!file) throw new PreconditionError(`index of disk ${disk.name} missing`);
      await writeFileAtomic(join(dir, `${disk.name}.fidx`), file, { tmpDir: this.tmpDir, syncDir: false });
    }
    await fsyncDir(dir);
    await writeFileAtomic(join(dir, MANIFEST_FILE), manifestFile, { tmpDir: this.tmpDir });
    this.catalog.add(manifest);
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
}
