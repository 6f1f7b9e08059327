import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import { writeFileAtomic } from '../../shared/fs/atomic-file.js';
import type { ChunkStore, StoredChunkInfo } from './chunk-store.js';
import { DirSyncer } from './dir-syncer.js';

const HEX64 = /^[0-9a-f]{64}$/;

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

type Operation = { readonly kind: 'write'; readonly done: Promise<'written' | 'present'> } | { readonly kind: 'remove'; readonly done: Promise<boolean> };

/**
 * Chunks as files `chunks/ab/cd/<64 hex>`. A put writes into `tmp/`, fsyncs the file, renames it
 * into place, then waits for a group fsync of the touched directories (DirSyncer: each directory
 * once per group, however many chunks landed in it). Until all of that is done the digest sits
 * in the operations map, so `has` never counts a chunk that a crash could still lose. Removals
 * (garbage collection) go through the same map, so a put never reports 'present' for a blob
 * being deleted.
 */
export class FsChunkStore implements ChunkStore {
  private readonly ops = new Map<string, Operation>();
  private readonly knownDirs = new Map<string, Promise<void>>();
  private readonly syncer = new DirSyncer();

  constructor(
    private readonly chunksDir: string,
    private readonly tmpDir: string,
    private readonly quarantineDir: string,
    private readonly clock: Clock,
  ) {}

  /** The file of a digest. */
  pathOf(digest: Uint8Array): string {
    const hex = digestHex(digest);
    return join(this.chunksDir, hex.slice(0, 2), hex.slice(2, 4), hex);
  }

  async has(digest: Uint8Array): Promise<boolean> {
    if (this.ops.has(digestHex(digest))) return false;
    try {
      return (await stat(this.pathOf(digest))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  put(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'> {
    const hex = digestHex(digest);
    const pending = this.ops.get(hex);
    if (pending?.kind === 'write') return pending.done.then(() => 'present' as const);
    const before = pending ? pending.done.then(noop, noop) : Promise.resolve();
    // The entry goes before the promise resolves, so a caller that awaited it sees the chunk.
    const done = before
      .then(() => this.write(digest, blob))
      .finally(() => {
        if (this.ops.get(hex) === op) this.ops.delete(hex);
      });
    const op: Operation = { kind: 'write', done };
    this.ops.set(hex, op);
    return done;
  }

  private async write(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'> {
    const path = this.pathOf(digest);
    try {
      if ((await stat(path)).isFile()) return 'present';
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const dir = dirname(path);
    await this.ensureDir(dir);
    await writeFileAtomic(path, blob, { tmpDir: this.tmpDir, syncDir: false });
    await this.syncer.sync([dir]);
    return 'written';
  }

  /** Creates chunks/ab/cd on first use; resolves once the new entries are durable. */
  private ensureDir(dir: string): Promise<void> {
    let ready = this.knownDirs.get(dir);
    if (!ready) {
      ready = this.createDir(dir);
      this.knownDirs.set(dir, ready);
      ready.catch(() => this.knownDirs.delete(dir));
    }
    return ready;
  }

  private async createDir(dir: string): Promise<void> {
    const created = await mkdir(dir, { recursive: true });
    if (created === undefined) return;
    // Every directory from `created` down to `dir` is new: each parent's entry must be durable.
    const parents: string[] = [];
    for (let d = dir; d.length >= created.length && d !== this.chunksDir; d = dirname(d)) parents.push(dirname(d));
    await this.syncer.sync(parents);
  }

  async get(digest: Uint8Array): Promise<Buffer | undefined> {
    if (this.ops.has(digestHex(digest))) return undefined;
    try {
      return await readFile(this.pathOf(digest));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Moves a blob aside: one rename (the blob's bytes never move), a `.reason` file beside it,
   * then a group fsync of the two directories (shared with concurrent quarantines and puts).
   */
  async quarantine(digest: Uint8Array, problem: string): Promise<void> {
    const hex = digestHex(digest);
    const path = this.pathOf(digest);
    const target = join(this.quarantineDir, `${hex}.${this.clock.nowMs()}`);
    try {
      await rename(path, target);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await writeFileAtomic(`${target}.reason`, Buffer.from(`${problem}\n`), { tmpDir: this.tmpDir, syncDir: false });
    await this.syncer.sync([this.quarantineDir, dirname(path)]);
  }

  remove(digest: Uint8Array, decide: (info: StoredChunkInfo) => boolean): Promise<boolean> {
    const hex = digestHex(digest);
    if (this.ops.has(hex)) return Promise.resolve(false);
    const path = this.pathOf(digest);
    const done = (async () => {
      let info: StoredChunkInfo;
      try {
        const s = await stat(path);
        info = { mtimeMs: s.mtimeMs, sizeBytes: s.size };
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      if (!decide(info)) return false;
      try {
        await unlink(path);
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      return true;
    })().finally(() => {
      if (this.ops.get(hex) === op) this.ops.delete(hex);
    });
    const op: Operation = { kind: 'remove', done };
    this.ops.set(hex, op);
    return done;
  }

  async clockMs(): Promise<number> {
    const probe = join(this.tmpDir, `.clock-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, '');
    try {
      return (await stat(probe)).mtimeMs;
    } finally {
      await unlink(probe);
    }
  }

  async *list(): AsyncIterable<Buffer> {
    for (const a of await readdir(this.chunksDir)) {
      for (const b of await readdir(join(this.chunksDir, a)).catch(() => [])) {
        for (const name of await readdir(join(this.chunksDir, a, b)).catch(() => [])) {
          if (HEX64.test(name)) yield Buffer.from(name, 'hex');
        }
      }
    }
  }
}

function noop(): void {}
