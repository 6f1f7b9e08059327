import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import { fsyncDir, writeFileAtomic } from '../../shared/fs/atomic-file.js';
import type { ChunkStore } from './chunk-store.js';

const HEX64 = /^[0-9a-f]{64}$/;

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Chunks as files `chunks/ab/cd/<64 hex>`. A put goes through `tmp/` (fsync, rename, directory
 * fsync); until all of that is done the digest sits in an in-flight map, so `has` never counts a
 * chunk that a crash could still lose.
 */
export class FsChunkStore implements ChunkStore {
  private readonly inFlight = new Map<string, Promise<'written' | 'present'>>();
  private readonly knownDirs = new Map<string, Promise<void>>();

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
    if (this.inFlight.has(digestHex(digest))) return false;
    try {
      return (await stat(this.pathOf(digest))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  put(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'> {
    const hex = digestHex(digest);
    const pending = this.inFlight.get(hex);
    if (pending) return pending.then(() => 'present' as const);
    const write = this.write(digest, blob).finally(() => this.inFlight.delete(hex));
    this.inFlight.set(hex, write);
    return write;
  }

  private async write(digest: Uint8Array, blob: Uint8Array): Promise<'written' | 'present'> {
    const path = this.pathOf(digest);
    try {
      if ((await stat(path)).isFile()) return 'present';
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.ensureDir(dirname(path));
    await writeFileAtomic(path, blob, { tmpDir: this.tmpDir });
    return 'written';
  }

  /** Creates chunks/ab/cd on first use and makes each new directory entry durable. */
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
    // Every directory from `created` down to `dir` is new: fsync each parent's entry.
    for (let d = dir; d.length >= created.length && d !== this.chunksDir; d = dirname(d)) await fsyncDir(dirname(d));
  }

  async get(digest: Uint8Array): Promise<Buffer | undefined> {
    if (this.inFlight.has(digestHex(digest))) return undefined;
    try {
      return await readFile(this.pathOf(digest));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

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
    await writeFileAtomic(`${target}.reason`, Buffer.from(`${problem}\n`), { tmpDir: this.tmpDir });
    await fsyncDir(dirname(path));
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
