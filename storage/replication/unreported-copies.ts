/**
 * Copies a sync made that the controller may not have heard of yet. A sync that dies (a kill,
 * a failed job) after importing some backups would otherwise never report them: the next run
 * finds them present and counts them as "already present", and the controller's view of the
 * replica — and the lag it computes from it — would stay wrong for good.
 *
 * So every backup a sync copies is recorded here (durably, before the sync goes on), reported in
 * the `copied` of every sync result until one reaches the controller, and forgotten once the
 * job's result event is stored (the job worker's onSucceeded). A result reported twice is
 * harmless: the controller records a copy once.
 *
 *   <datastore>/replication/unreported.json   {"copies": [BackupRecord, ...]}, rewritten atomically
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/fs/atomic-file.js';
import type { Logger } from '../../shared/log.js';
import { BackupRecord } from '../../shared/messages/results.js';

const File = z.object({ copies: z.array(BackupRecord) });

export class UnreportedCopies {
  private constructor(
    private readonly path: string,
    private readonly tmpDir: string,
    private copies: BackupRecord[],
  ) {}

  /** Opens (or starts) the record at `path`; a damaged file is logged and started afresh (the copies stay at the replica). */
  static async open(path: string, tmpDir: string, log: Logger): Promise<UnreportedCopies> {
    await mkdir(dirname(path), { recursive: true });
    let copies: BackupRecord[] = [];
    try {
      copies = File.parse(JSON.parse(await readFile(path, 'utf8'))).copies;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err }, 'unreported sync copies file damaged: starting afresh');
    }
    return new UnreportedCopies(path, tmpDir, copies);
  }

  /** Records a copy a sync just made (durable when this resolves). */
  async add(record: BackupRecord): Promise<void> {
    if (this.copies.some((c) => c.backupId === record.backupId && c.site === record.site)) return;
    this.copies = [...this.copies, record];
    await this.save();
  }

  /** The copies not yet confirmed reported. */
  list(): BackupRecord[] {
    return [...this.copies];
  }

  /** Forgets the copies a stored result reported. */
  async confirm(reported: readonly BackupRecord[]): Promise<void> {
    const keys = new Set(reported.map((r) => `${r.site}/${r.backupId}`));
    const left = this.copies.filter((c) => !keys.has(`${c.site}/${c.backupId}`));
    if (left.length === this.copies.length) return;
    this.copies = left;
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.path, Buffer.from(JSON.stringify({ copies: this.copies })), { tmpDir: this.tmpDir });
  }
}
