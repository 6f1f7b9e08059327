/**
 * The pruned log: a durable record of the backups this datastore removed under its own
 * retention, so a site sync never copies one of them back (retention at a replica is its own).
 *
 *   pruned.log        one line per removed backup: `<crc32 hex> <json>\n`, appended and fsynced
 *
 * Crash safety, with Datastore.removeBackup: the backup directory is first renamed into tmp/
 * as `pruned-<backupId>-<8 hex>` and the rename made durable; only then is the id appended here
 * (write + fsync); only then is the directory deleted. At open, before tmp/ is emptied, every
 * such leftover is recorded (`recordLeftovers`). So at any instant of a crash a backup is either
 * still in backups/ and not recorded, or out of backups/ and recorded (or recorded at the next
 * open, from its leftover in tmp/): never gone and unrecorded, never recorded and still there.
 *
 * A torn last line (a crash during an append) fails its CRC and is dropped; the file is then
 * rewritten whole (atomically) before anything is appended, so no record follows a torn one.
 * Compaction (`forgetAbsent`) rewrites the file atomically without the ids a sync source no
 * longer has: a backup its origin has pruned can never be offered again.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { fsyncDir, writeFileAtomic } from '../../shared/fs/atomic-file.js';
import { Ulid } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';

export const PRUNED_LOG_FILE = 'pruned.log';

const PRUNED_DIR = /^pruned-([0-9A-HJKMNP-TV-Z]{26})-[0-9a-f]{8}$/;

/** The name under tmp/ a removed backup's directory is renamed to before it is deleted. */
export function prunedDirName(backupId: string, suffix: string): string {
  return `pruned-${backupId}-${suffix}`;
}

/** One removed backup. */
export const PrunedRecord = z.strictObject({
  backupId: Ulid,
  vm: z.string().min(1),
  /** The datastore the backup was made in (its manifest's datastoreId): whose listing may drop the record. */
  originDatastoreId: z.string().min(1),
  prunedAt: z.iso.datetime(),
});
export type PrunedRecord = z.infer<typeof PrunedRecord>;

function encodeRecord(record: PrunedRecord): string {
  const json = JSON.stringify(PrunedRecord.parse(record));
  return `${crc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
}

function decodeLine(line: string): PrunedRecord | undefined {
  const space = line.indexOf(' ');
  if (space !== 8) return undefined;
  const json = line.slice(9);
  if (crc32(Buffer.from(json)).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    const parsed = PrunedRecord.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export class PrunedLog {
  private readonly byId = new Map<string, PrunedRecord>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Whether the file's directory entry is known durable (else the first append fsyncs the directory). */
  private fileDurable = false;

  private constructor(
    private readonly dir: string,
    private readonly path: string,
    private readonly tmpDir: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Reads `<dir>/pruned.log` (absent: empty), dropping a torn or damaged line and rewriting the file then. */
  static async open(dir: string, tmpDir: string, clock: Clock, log: Logger): Promise<PrunedLog> {
    const prunedLog = new PrunedLog(dir, join(dir, PRUNED_LOG_FILE), tmpDir, clock, log);
    let text: string;
    try {
      text = await readFile(prunedLog.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return prunedLog;
      throw err;
    }
    prunedLog.fileDurable = true;
    const lines = text.split('\n');
    const last = lines.pop();
    let bad = last === '' ? 0 : 1;
    for (const line of lines) {
      const record = decodeLine(line);
      if (record) prunedLog.byId.set(record.backupId, record);
      else bad++;
    }
    if (bad > 0) {
      log.warn({ path: prunedLog.path, badLines: bad, kept: prunedLog.byId.size }, 'pruned log had torn or damaged lines: rewritten without them');
      await prunedLog.rewrite();
    }
    return prunedLog;
  }

  /** Whether this datastore removed the backup. */
  has(backupId: string): boolean {
    return this.byId.has(backupId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every record, oldest first. */
  records(): PrunedRecord[] {
    return [...this.byId.values()];
  }

  /** Appends a record durably (write + fsync); a backup recorded already is left as it is. */
  record(entry: { backupId: string; vm: string; originDatastoreId: string }): Promise<void> {
    return this.serial(async () => {
      if (this.byId.has(entry.backupId)) return;
      const record: PrunedRecord = { ...entry, prunedAt: this.clock.nowIso() };
      const line = encodeRecord(record);
      const handle = await open(this.path, 'a', 0o640);
      try {
        await handle.write(line);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (!this.fileDurable) {
        await fsyncDir(this.dir);
        this.fileDurable = true;
      }
      this.byId.set(record.backupId, record);
    });
  }

  /**
   * Records the backups whose removal a crash interrupted: their directories are still in
   * tmp/ as `pruned-<id>-*`. Call before tmp/ is emptied. Returns how many were new.
   */
  async recordLeftovers(): Promise<number> {
    let added = 0;
    for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
      const backupId = PRUNED_DIR.exec(name)?.[1];
      if (backupId === undefined || this.byId.has(backupId)) continue;
      let vm = 'unknown';
      let origin = 'unknown';
      try {
        const manifest = decodeManifest(await readFile(join(this.tmpDir, name, 'manifest.json')));
        vm = manifest.vm;
        origin = manifest.datastoreId;
      } catch (err) {
        // Only a removal interrupted after it was recorded can have lost its manifest; kept anyway.
        this.log.warn({ err, backupId }, 'removed backup left in tmp/ without a readable manifest: recorded with origin unknown');
      }
      await this.record({ backupId, vm, originDatastoreId: origin });
      added++;
    }
    if (added > 0) this.log.info({ added }, 'removals interrupted by a crash recorded in the pruned log');
    return added;
  }

  /**
   * Forgets the records of backups made in `originDatastoreId` that it no longer lists: the
   * origin removed them too, so no sync can offer them again. Returns how many were dropped.
   */
  forgetAbsent(originDatastoreId: string, listedIds: ReadonlySet<string>): Promise<number> {
    return this.serial(async () => {
      const dropped = [...this.byId.values()].filter((r) => r.originDatastoreId === originDatastoreId && !listedIds.has(r.backupId));
      if (dropped.length === 0) return 0;
      for (const r of dropped) this.byId.delete(r.backupId);
      await this.rewrite();
      this.log.info({ dropped: dropped.length, kept: this.byId.size, originDatastoreId }, 'pruned log compacted');
      return dropped.length;
    });
  }

  private async rewrite(): Promise<void> {
    await writeFileAtomic(this.path, Buffer.from([...this.byId.values()].map(encodeRecord).join('')), { tmpDir: this.tmpDir });
    this.fileDurable = true;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
