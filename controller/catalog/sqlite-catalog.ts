/**
 * The catalog in SQLite through better-sqlite3: WAL (readers never block the event writer),
 * foreign keys on, a busy timeout. Schema changes are numbered migrations in code; each runs in
 * its own transaction together with the row in `schema_version` that records it, so a crash
 * mid-migration leaves the previous version intact and the next start runs it again.
 * JSON columns are validated with zod when read.
 *
 * A backup copy is read `damaged` when its stored finding says so or an open alert covers it
 * (`alert_backups` names the copies each alert covers), so resolving the last alert over a copy
 * needs no rewrite of its row. A resolution that arrives before its alert waits in
 * `alert_resolutions`, and the alert is inserted resolved when it comes.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CorruptDataError } from '../../shared/errors.js';
import { AffectedRange, DamageAlert, RepairRecord, RepairTrigger } from '../../shared/messages/events.js';
import { JobKind } from '../../shared/messages/jobs.js';
import {
  AlertStates,
  BackupDisks,
  JobProgress,
  JobStates,
  VmDisks,
  type AlertFilter,
  type AlertRow,
  type BackupFilter,
  type BackupRow,
  type BackupUpdate,
  type Catalog,
  type CatalogCounts,
  type JobFilter,
  type JobRow,
  type JobUpdate,
  type RepairFilter,
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
  {
    // Issue 6: repairs and damage alerts reported by storages; sync jobs looked up by kind.
    version: 3,
    sql: `
      CREATE TABLE repairs (
        repair_id TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        object TEXT NOT NULL CHECK (object IN ('chunk', 'index', 'manifest')),
        digest TEXT,
        backup_id TEXT,
        disk TEXT,
        problem TEXT NOT NULL,
        trigger_kind TEXT NOT NULL,
        peer TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        at TEXT NOT NULL,
        affected TEXT NOT NULL
      );
      CREATE INDEX repairs_at ON repairs (at);
      CREATE TABLE alerts (
        alert_id TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        object TEXT NOT NULL CHECK (object IN ('chunk', 'index', 'manifest')),
        digest TEXT,
        backup_id TEXT,
        disk TEXT,
        problem TEXT NOT NULL,
        peers_tried TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        affected TEXT NOT NULL,
        message TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        resolved_at TEXT,
        resolution TEXT
      );
      CREATE INDEX alerts_open ON alerts (raised_at) WHERE state = 'open';
      CREATE TABLE alert_backups (
        alert_id TEXT NOT NULL REFERENCES alerts (alert_id),
        backup_id TEXT NOT NULL,
        site TEXT NOT NULL,
        PRIMARY KEY (alert_id, backup_id)
      );
      CREATE INDEX alert_backups_copy ON alert_backups (backup_id, site);
      CREATE TABLE alert_resolutions (
        alert_id TEXT PRIMARY KEY,
        resolved_at TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX jobs_kind ON jobs (kind, created_at);
    `,
  },
];

/** A copy's row plus whether an open alert covers it (read as damaged). */
const BACKUP_SELECT = `SELECT b.*, EXISTS (
    SELECT 1 FROM alert_backups ab JOIN alerts a ON a.alert_id = ab.alert_id
    WHERE ab.backup_id = b.backup_id AND ab.site = b.site AND a.state = 'open'
  ) AS under_alert FROM backups b`;

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
  under_alert: number;
}

interface RepairRecordRow {
  repair_id: string;
  site: string;
  object: string;
  digest: string | null;
  backup_id: string | null;
  disk: string | null;
  problem: string;
  trigger_kind: string;
  peer: string;
  bytes: number;
  at: string;
  affected: string;
}

interface AlertRecordRow {
  alert_id: string;
  site: string;
  object: string;
  digest: string | null;
  backup_id: string | null;
  disk: string | null;
  problem: string;
  peers_tried: string;
  raised_at: string;
  affected: string;
  message: string;
  state: string;
  resolved_at: string | null;
  resolution: string | null;
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
const AlertStateSchema = z.enum(AlertStates);
const DamagedObjectSchema = RepairRecord.shape.object;
const AffectedRanges = z.array(AffectedRange);
const PeersTried = DamageAlert.shape.peersTried;

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
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filter.limit };
    if (filter.state !== undefined) {
      where.push('state = @state');
      values.state = filter.state;
    }
    if (filter.kind !== undefined) {
      where.push('kind = @kind');
      values.kind = filter.kind;
    }
    if (filter.finishedSince !== undefined) {
      where.push('finished_at >= @finishedSince');
      values.finishedSince = filter.finishedSince;
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.db.prepare(`SELECT * FROM jobs ${clause} ORDER BY created_at DESC, id DESC LIMIT @limit`).all(values);
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
    const row = this.db.prepare(`${BACKUP_SELECT} WHERE b.backup_id = ? AND b.site = ?`).get(backupId, site) as
      | BackupRecordRow
      | undefined;
    return row && toBackup(row);
  }

  getBackupCopies(backupId: string): BackupRow[] {
    return (
      this.db
        .prepare(`${BACKUP_SELECT} WHERE b.backup_id = ? AND b.pruned_at IS NULL ORDER BY b.rowid`)
        .all(backupId) as BackupRecordRow[]
    ).map(toBackup);
  }

  listBackups(filter: BackupFilter): BackupRow[] {
    const where = filter.includePruned === true ? ['1'] : ['b.pruned_at IS NULL'];
    const values: string[] = [];
    if (filter.vm !== undefined) {
      where.push('b.vm = ?');
      values.push(filter.vm);
    }
    if (filter.site !== undefined) {
      where.push('b.site = ?');
      values.push(filter.site);
    }
    const sql = `${BACKUP_SELECT} WHERE ${where.join(' AND ')} ORDER BY b.created_at DESC, b.backup_id DESC, b.site`;
    return (this.db.prepare(sql).all(...values) as BackupRecordRow[]).map(toBackup);
  }

  latestBackup(vm: string): BackupRow | undefined {
    const row = this.db
      .prepare(
        `${BACKUP_SELECT} WHERE b.vm = ? AND b.pruned_at IS NULL ORDER BY b.created_at DESC, b.backup_id DESC LIMIT 1`,
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

  insertRepair(r: RepairRecord): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO repairs (repair_id, site, object, digest, backup_id, disk, problem, trigger_kind, peer, bytes, at, affected)
         VALUES (@repairId, @site, @object, @digest, @backupId, @disk, @problem, @trigger, @peer, @bytes, @at, @affected)
         ON CONFLICT (repair_id) DO NOTHING`,
      )
      .run({ ...r, affected: JSON.stringify(AffectedRanges.parse(r.affected)) });
    return info.changes === 1;
  }

  listRepairs(filter: RepairFilter): RepairRecord[] {
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: filter.limit };
    if (filter.site !== undefined) {
      where.push('r.site = @site');
      values.site = filter.site;
    }
    if (filter.vm !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM json_each(r.affected) j WHERE json_extract(j.value, '$.vm') = @vm)`);
      values.vm = filter.vm;
    }
    if (filter.since !== undefined) {
      where.push('r.at >= @since');
      values.since = filter.since;
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.db.prepare(`SELECT * FROM repairs r ${clause} ORDER BY r.at DESC, r.repair_id DESC LIMIT @limit`).all(values);
    return (rows as RepairRecordRow[]).map(toRepair);
  }

  insertAlert(alert: DamageAlert): boolean {
    return this.transaction(() => {
      const resolution = this.db
        .prepare('SELECT resolved_at, reason FROM alert_resolutions WHERE alert_id = ?')
        .get(alert.alertId) as { resolved_at: string; reason: string } | undefined;
      const info = this.db
        .prepare(
          `INSERT INTO alerts (alert_id, site, object, digest, backup_id, disk, problem, peers_tried, raised_at, affected,
             message, state, resolved_at, resolution)
           VALUES (@alertId, @site, @object, @digest, @backupId, @disk, @problem, @peersTried, @raisedAt, @affected,
             @message, @state, @resolvedAt, @resolution)
           ON CONFLICT (alert_id) DO NOTHING`,
        )
        .run({
          ...alert,
          peersTried: JSON.stringify(PeersTried.parse(alert.peersTried)),
          affected: JSON.stringify(AffectedRanges.parse(alert.affected)),
          state: resolution ? 'resolved' : 'open',
          resolvedAt: resolution?.resolved_at ?? null,
          resolution: resolution?.reason ?? null,
        });
      if (info.changes !== 1) return false;
      const covered = new Set(alert.affected.map((r) => r.backupId));
      if (alert.backupId !== null) covered.add(alert.backupId);
      const cover = this.db.prepare('INSERT INTO alert_backups (alert_id, backup_id, site) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
      for (const backupId of covered) cover.run(alert.alertId, backupId, alert.site);
      return true;
    });
  }

  recordAlertResolution(alertId: string, resolvedAt: string, reason: string): boolean {
    return this.transaction(() => {
      const info = this.db
        .prepare('INSERT INTO alert_resolutions (alert_id, resolved_at, reason) VALUES (?, ?, ?) ON CONFLICT (alert_id) DO NOTHING')
        .run(alertId, resolvedAt, reason);
      if (info.changes !== 1) return false;
      this.db
        .prepare(`UPDATE alerts SET state = 'resolved', resolved_at = ?, resolution = ? WHERE alert_id = ? AND state = 'open'`)
        .run(resolvedAt, reason, alertId);
      return true;
    });
  }

  getAlert(alertId: string): AlertRow | undefined {
    const row = this.db.prepare('SELECT * FROM alerts WHERE alert_id = ?').get(alertId) as AlertRecordRow | undefined;
    return row && toAlert(row);
  }

  listAlerts(filter: AlertFilter): AlertRow[] {
    const clause = filter.openOnly ? `WHERE state = 'open'` : '';
    return (
      this.db
        .prepare(`SELECT * FROM alerts ${clause} ORDER BY raised_at DESC, alert_id DESC LIMIT ?`)
        .all(filter.limit) as AlertRecordRow[]
    ).map(toAlert);
  }

  countsForMetrics(): CatalogCounts {
    return {
      jobs: this.db.prepare('SELECT kind, state, COUNT(*) AS count FROM jobs GROUP BY kind, state').all() as CatalogCounts['jobs'],
      repairs: this.db.prepare('SELECT site, object, COUNT(*) AS count FROM repairs GROUP BY site, object').all() as CatalogCounts['repairs'],
      openAlerts: this.db.prepare(`SELECT site, COUNT(*) AS count FROM alerts WHERE state = 'open' GROUP BY site`).all() as CatalogCounts['openAlerts'],
    };
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
    state: r.under_alert === 1 ? 'damaged' : BackupStateSchema.parse(r.state),
    stateAt: r.state_at,
    lockedUntil: r.locked_until,
    prunedAt: r.pruned_at,
    seenAt: r.seen_at,
  };
}

function toRepair(r: RepairRecordRow): RepairRecord {
  return {
    repairId: r.repair_id,
    site: r.site,
    object: DamagedObjectSchema.parse(r.object),
    digest: r.digest,
    backupId: r.backup_id,
    disk: r.disk,
    problem: r.problem,
    trigger: RepairTrigger.parse(r.trigger_kind),
    peer: r.peer,
    bytes: r.bytes,
    at: r.at,
    affected: parseJsonColumn(AffectedRanges, r.affected, `repairs.affected of ${r.repair_id}`),
  };
}

function toAlert(r: AlertRecordRow): AlertRow {
  return {
    alertId: r.alert_id,
    site: r.site,
    object: DamagedObjectSchema.parse(r.object),
    digest: r.digest,
    backupId: r.backup_id,
    disk: r.disk,
    problem: r.problem,
    peersTried: parseJsonColumn(PeersTried, r.peers_tried, `alerts.peers_tried of ${r.alert_id}`),
    raisedAt: r.raised_at,
    affected: parseJsonColumn(AffectedRanges, r.affected, `alerts.affected of ${r.alert_id}`),
    message: r.message,
    state: AlertStateSchema.parse(r.state),
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
  };
}
