/**
 * The catalog in SQLite through better-sqlite3: WAL (readers never block the event writer),
 * foreign keys on, a busy timeout. Schema changes are numbered migrations in code; each runs in
 * its own transaction together with the row in `schema_version` that records it, so a crash
 * mid-migration leaves the previous version intact and the next start runs it again.
 * JSON columns are validated with zod when read.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CorruptDataError } from '../../shared/errors.js';
import { JobKind } from '../../shared/messages/jobs.js';
import {
  BackupDisks,
  JobProgress,
  JobStates,
  VmDisks,
  type BackupFilter,
  type BackupRow,
  type BackupUpdate,
  type Catalog,
  type JobFilter,
  type JobRow,
  type JobUpdate,
  type VmRow,
  type WorkerRow,
} from './catalog.js';

/** Numbered schema steps; append only, never edit a released one. */
export const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE workers (
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('agent', 'storage')),
        state TEXT NOT NULL CHECK (state IN ('online', 'offline')),
        last_seen_at TEXT NOT NULL,
        address TEXT,
        version TEXT NOT NULL,
        PRIMARY KEY (site, id)
      );
      CREATE TABLE vms (
        name TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        worker TEXT NOT NULL,
        hypervisor TEXT NOT NULL,
        disks TEXT NOT NULL
      );
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        site TEXT NOT NULL,
        worker TEXT NOT NULL,
        vm TEXT,
        attempt INTEGER NOT NULL,
        params TEXT NOT NULL,
        result TEXT,
        error TEXT,
        progress TEXT,
        created_at TEXT NOT NULL,
        published_at TEXT,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX jobs_state ON jobs (state, created_at);
      CREATE INDEX jobs_unpublished ON jobs (created_at) WHERE published_at IS NULL;
      CREATE TABLE applied_events (
        event_id TEXT PRIMARY KEY,
        applied_at TEXT NOT NULL
      );
      CREATE TABLE backups (
        backup_id TEXT NOT NULL,
        site TEXT NOT NULL,
        vm TEXT NOT NULL,
        created_at TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
        parent TEXT,
        job_id TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        disks TEXT NOT NULL,
        verified_at TEXT,
        state TEXT NOT NULL CHECK (state IN ('ok', 'damaged')),
        PRIMARY KEY (backup_id, site)
      );
      CREATE INDEX backups_vm ON backups (vm, created_at);
    `,
  },
  {
    // Issue 4: locks, prune (the row stays for history, marked by pruned_at) and order-tolerant
    // state. Existing copies are present, unlocked, with no known finding or sighting time.
    version: 2,
    sql: `
      ALTER TABLE backups ADD COLUMN state_at TEXT;
      ALTER TABLE backups ADD COLUMN locked_until TEXT;
      ALTER TABLE backups ADD COLUMN pruned_at TEXT;
      ALTER TABLE backups ADD COLUMN seen_at TEXT;
      CREATE INDEX backups_present ON backups (created_at) WHERE pruned_at IS NULL;
    `,
  },
];

interface WorkerRecord {
  site: string;
  id: string;
  kind: string;
  state: string;
  last_seen_at: string;
  address: string | null;
  version: string;
}

interface VmRecord {
  name: string;
  site: string;
  worker: string;
  hypervisor: string;
  disks: string;
}

interface JobRecord {
  id: string;
  kind: string;
  state: string;
  site: string;
  worker: string;
  vm: string | null;
  attempt: number;
  params: string;
  result: string | null;
  error: string | null;
  progress: string | null;
  created_at: string;
  published_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

interface BackupRecordRow {
  backup_id: string;
  site: string;
  vm: string;
  created_at: string;
  mode: string;
  parent: string | null;
  job_id: string;
  size_bytes: number;
  disks: string;
  verified_at: string | null;
  state: string;
  state_at: string | null;
  locked_until: string | null;
  pruned_at: string | null;
  seen_at: string | null;
}

function parseJsonColumn<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CorruptDataError(what, 'not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CorruptDataError(what, parsed.error.issues[0]?.message ?? 'invalid');
  return parsed.data;
}

const WorkerKindSchema = z.enum(['agent', 'storage']);
const WorkerStateSchema = z.enum(['online', 'offline']);
const JobStateSchema = z.enum(JobStates);
const BackupModeSchema = z.enum(['full', 'incremental']);
const BackupStateSchema = z.enum(['ok', 'damaged']);

export class SqliteCatalog implements Catalog {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating if needed) the catalog at `path` and brings its schema up to date. */
  static open(path: string): SqliteCatalog {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const catalog = new SqliteCatalog(db);
    catalog.migrate();
    return catalog;
  }

  /** The schema version in the file. */
  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const current = this.schemaVersion();
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new CorruptDataError('catalog', `schema version ${current} is newer than this controller knows (${newest})`);
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)')
          .run(m.version, new Date().toISOString());
      })();
    }
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }

  recordEvent(eventId: string, appliedAt: string): boolean {
    const info = this.db
      .prepare('INSERT INTO applied_events (event_id, applied_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING')
      .run(eventId, appliedAt);
    return info.changes === 1;
  }

  upsertWorker(w: WorkerRow): void {
    this.db
      .prepare(
        `INSERT INTO workers (site, id, kind, state, last_seen_at, address, version)
         VALUES (@site, @id, @kind, @state, @lastSeenAt, @address, @version)
         ON CONFLICT (site, id) DO UPDATE SET kind = excluded.kind, state = excluded.state,
           last_seen_at = excluded.last_seen_at, address = excluded.address, version = excluded.version`,
      )
      .run({ ...w });
  }

  markWorkersOffline(cutoff: string): WorkerRow[] {
    return this.transaction(() => {
      const stale = (
        this.db
          .prepare(`SELECT * FROM workers WHERE state = 'online' AND last_seen_at < ?`)
          .all(cutoff) as WorkerRecord[]
      ).map(toWorker);
      const update = this.db.prepare(`UPDATE workers SET state = 'offline' WHERE site = ? AND id = ?`);
      for (const w of stale) update.run(w.site, w.id);
      return stale.map((w) => ({ ...w, state: 'offline' as const }));
    });
  }

  listWorkers(): WorkerRow[] {
    return (this.db.prepare('SELECT * FROM workers ORDER BY site, kind, id').all() as WorkerRecord[]).map(toWorker);
  }

  upsertVm(vm: VmRow): void {
    this.db
      .prepare(
        `INSERT INTO vms (name, site, worker, hypervisor, disks) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET site = excluded.site, worker = excluded.worker,
           hypervisor = excluded.hypervisor, disks = excluded.disks`,
      )
      .run(vm.name, vm.site, vm.worker, vm.hypervisor, JSON.stringify(VmDisks.parse(vm.disks)));
  }

  getVm(name: string): VmRow | undefined {
    const row = this.db.prepare('SELECT * FROM vms WHERE name = ?').get(name) as VmRecord | undefined;
    return row && toVm(row);
  }

  listVms(): VmRow[] {
    return (this.db.prepare('SELECT * FROM vms ORDER BY name').all() as VmRecord[]).map(toVm);
  }

  insertJob(job: JobRow): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, state, site, worker, vm, attempt, params, result, error, progress,
           created_at, published_at, started_at, finished_at)
         VALUES (@id, @kind, @state, @site, @worker, @vm, @attempt, @params, @result, @error, @progress,
           @createdAt, @publishedAt, @startedAt, @finishedAt)`,
      )
      .run({
        ...job,
        params: JSON.stringify(job.params),
        result: job.result === null || job.result === undefined ? null : JSON.stringify(job.result),
        progress: job.progress ? JSON.stringify(job.progress) : null,
      });
  }

  getJob(id: string): JobRow | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRecord | undefined;
    return row && toJob(row);
  }

  listJobs(filter: JobFilter): JobRow[] {
    const rows =
      filter.state === undefined
        ? this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(filter.limit)
        : this.db
            .prepare('SELECT * FROM jobs WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?')
            .all(filter.state, filter.limit);
    return (rows as JobRecord[]).map(toJob);
  }

  listUnpublishedJobs(): JobRow[] {
    return (
      this.db
        .prepare(`SELECT * FROM jobs WHERE published_at IS NULL AND state = 'queued' ORDER BY created_at, id`)
        .all() as JobRecord[]
    ).map(toJob);
  }

  markJobPublished(id: string, at: string): void {
    this.db.prepare('UPDATE jobs SET published_at = ? WHERE id = ? AND published_at IS NULL').run(at, id);
  }

  updateJob(id: string, update: JobUpdate): void {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    const set = (column: string, value: unknown) => {
      sets.push(`${column} = @${column}`);
      values[column] = value;
    };
    if (update.state !== undefined) set('state', update.state);
    if (update.result !== undefined) set('result', update.result === null ? null : JSON.stringify(update.result));
    if (update.error !== undefined) set('error', update.error);
    if (update.progress !== undefined) set('progress', update.progress ? JSON.stringify(update.progress) : null);
    if (update.startedAt !== undefined) set('started_at', update.startedAt);
    if (update.finishedAt !== undefined) set('finished_at', update.finishedAt);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  insertBackup(b: BackupRow): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO backups (backup_id, site, vm, created_at, mode, parent, job_id, size_bytes, disks, verified_at, state,
           state_at, locked_until, pruned_at, seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (backup_id, site) DO NOTHING`,
      )
      .run(
        b.backupId,
        b.site,
        b.vm,
        b.createdAt,
        b.mode,
        b.parentBackupId,
        b.jobId,
        b.sizeBytes,
        JSON.stringify(BackupDisks.parse(b.disks)),
        b.verifiedAt,
        b.state,
        b.stateAt,
        b.lockedUntil,
        b.prunedAt,
        b.seenAt,
      );
    return info.changes === 1;
  }

  getBackupCopy(backupId: string, site: string): BackupRow | undefined {
    const row = this.db.prepare('SELECT * FROM backups WHERE backup_id = ? AND site = ?').get(backupId, site) as
      | BackupRecordRow
      | undefined;
    return row && toBackup(row);
  }

  getBackupCopies(backupId: string): BackupRow[] {
    return (
      this.db
        .prepare('SELECT * FROM backups WHERE backup_id = ? AND pruned_at IS NULL ORDER BY rowid')
        .all(backupId) as BackupRecordRow[]
    ).map(toBackup);
  }

  listBackups(filter: BackupFilter): BackupRow[] {
    const where = ['pruned_at IS NULL'];
    const values: string[] = [];
    if (filter.vm !== undefined) {
      where.push('vm = ?');
      values.push(filter.vm);
    }
    if (filter.site !== undefined) {
      where.push('site = ?');
      values.push(filter.site);
    }
    const sql = `SELECT * FROM backups WHERE ${where.join(' AND ')} ORDER BY created_at DESC, backup_id DESC, site`;
    return (this.db.prepare(sql).all(...values) as BackupRecordRow[]).map(toBackup);
  }

  latestBackup(vm: string): BackupRow | undefined {
    const row = this.db
      .prepare(
        'SELECT * FROM backups WHERE vm = ? AND pruned_at IS NULL ORDER BY created_at DESC, backup_id DESC LIMIT 1',
      )
      .get(vm) as BackupRecordRow | undefined;
    return row && toBackup(row);
  }

  updateBackup(backupId: string, site: string, update: BackupUpdate): void {
    const columns: Record<keyof BackupUpdate, string> = {
      verifiedAt: 'verified_at',
      state: 'state',
      stateAt: 'state_at',
      lockedUntil: 'locked_until',
      prunedAt: 'pruned_at',
      seenAt: 'seen_at',
    };
    const sets: string[] = [];
    const values: Record<string, unknown> = { backupId, site };
    for (const [field, column] of Object.entries(columns) as [keyof BackupUpdate, string][]) {
      const value = update[field];
      if (value === undefined) continue;
      sets.push(`${column} = @${column}`);
      values[column] = value;
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE backups SET ${sets.join(', ')} WHERE backup_id = @backupId AND site = @site`).run(values);
  }

  close(): void {
    this.db.close();
  }
}

function toWorker(r: WorkerRecord): WorkerRow {
  return {
    site: r.site,
    id: r.id,
    kind: WorkerKindSchema.parse(r.kind),
    state: WorkerStateSchema.parse(r.state),
    lastSeenAt: r.last_seen_at,
    address: r.address,
    version: r.version,
  };
}

function toVm(r: VmRecord): VmRow {
  return {
    name: r.name,
    site: r.site,
    worker: r.worker,
    hypervisor: r.hypervisor,
    disks: parseJsonColumn(VmDisks, r.disks, `vms.disks of ${r.name}`),
  };
}

function toJob(r: JobRecord): JobRow {
  return {
    id: r.id,
    kind: JobKind.parse(r.kind),
    state: JobStateSchema.parse(r.state),
    site: r.site,
    worker: r.worker,
    vm: r.vm,
    attempt: r.attempt,
    params: parseJsonColumn(z.unknown(), r.params, `jobs.params of ${r.id}`),
    result: r.result === null ? null : parseJsonColumn(z.unknown(), r.result, `jobs.result of ${r.id}`),
    error: r.error,
    progress: r.progress === null ? null : parseJsonColumn(JobProgress, r.progress, `jobs.progress of ${r.id}`),
    createdAt: r.created_at,
    publishedAt: r.published_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

function toBackup(r: BackupRecordRow): BackupRow {
  return {
    backupId: r.backup_id,
    site: r.site,
    vm: r.vm,
    createdAt: r.created_at,
    mode: BackupModeSchema.parse(r.mode),
    parentBackupId: r.parent,
    jobId: r.job_id,
    sizeBytes: r.size_bytes,
    disks: parseJsonColumn(BackupDisks, r.disks, `backups.disks of ${r.backup_id}`),
    verifiedAt: r.verified_at,
    state: BackupStateSchema.parse(r.state),
    stateAt: r.state_at,
    lockedUntil: r.locked_until,
    prunedAt: r.pruned_at,
    seenAt: r.seen_at,
  };
}
