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
import { CorruptDataError, NotFoundError } from '../../shared/errors.js';
import { AffectedRange, DamageAlert, RepairRecord, RepairTrigger } from '../../shared/messages/events.js';
import { JobKind } from '../../shared/messages/jobs.js';
import { Policy, VmTag } from '../../shared/messages/policy.js';
import {
  AlertStates,
  BackupDisks,
  JobProgress,
  JobStates,
  PolicyExistsError,
  VmDisks,
  type AlertFilter,
  type AlertRow,
  type BackupFilter,
  type BackupRow,
  type BackupUpdate,
  type Catalog,
  type CatalogCounts,
  type JobFilter,
  type PolicyJobFilter,
  type JobRow,
  type JobUpdate,
  type PolicyRow,
  type RepairFilter,
  type VmRow,
  type VmUpsert,
  type VmWorkerRow,
  type WorkerRow,
} from './catalog.js';
import { setClause, whereClause } from './sqlite-clauses.js';
import type { NewestGoodCopy, RpoAlertFilter, RpoAlertRow, WebhookDeliveryRow, WebhookDeliveryUpdate } from './catalog.js';
import type { ApiTokenRow, AuditEntryInsert, AuditEntryRow, AuditFilter } from './access-store.js';
import { ACCESS_MIGRATION_SQL, SqliteAccessStore } from './sqlite-access-store.js';

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
  {
    // Issue 7, dispatch: job states cancelled and skipped (SQLite cannot alter a CHECK, so the
    // table is rebuilt, in this migration's transaction: a crash leaves version 3 intact), the
    // cancel request time, whether the job went to the site's shared queue, and which agents
    // report each VM (seeded from the VMs' current agent).
    version: 4,
    sql: `
      CREATE TABLE jobs_v4 (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
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
        finished_at TEXT,
        cancel_requested_at TEXT,
        shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1))
      );
      INSERT INTO jobs_v4 (id, kind, state, site, worker, vm, attempt, params, result, error, progress,
          created_at, published_at, started_at, finished_at)
        SELECT id, kind, state, site, worker, vm, attempt, params, result, error, progress,
          created_at, published_at, started_at, finished_at FROM jobs;
      DROP TABLE jobs;
      ALTER TABLE jobs_v4 RENAME TO jobs;
      CREATE INDEX jobs_state ON jobs (state, created_at);
      CREATE INDEX jobs_unpublished ON jobs (created_at) WHERE published_at IS NULL;
      CREATE INDEX jobs_kind ON jobs (kind, created_at);
      CREATE INDEX jobs_cancel_requested ON jobs (cancel_requested_at) WHERE cancel_requested_at IS NOT NULL;
      CREATE TABLE vm_workers (
        vm TEXT NOT NULL,
        site TEXT NOT NULL,
        worker TEXT NOT NULL,
        PRIMARY KEY (vm, site, worker)
      );
      INSERT INTO vm_workers (vm, site, worker) SELECT name, site, worker FROM vms;
    `,
  },
  {
    // Issue 7, policies: stored as validated JSON (the zod Policy, re-validated on read), and
    // VM tags from the agents' inventory for tag selectors. Existing VMs have no tags until
    // their agent next reports.
    version: 5,
    sql: `
      CREATE TABLE policies (
        name TEXT PRIMARY KEY,
        policy TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      ALTER TABLE vms ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    // Issue 7, scheduling (controller/policies/): the policy that made a job, its priority, its
    // schedule time, when it may be published (backoff, window) and until when it may start, how
    // many attempts it has; and the newest schedule time each policy fired for, so a restart
    // neither fires a run twice nor loses one. Existing jobs: manual, one attempt.
    version: 6,
    sql: `
      ALTER TABLE jobs ADD COLUMN policy TEXT;
      ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 50;
      ALTER TABLE jobs ADD COLUMN due_at TEXT;
      ALTER TABLE jobs ADD COLUMN not_before TEXT;
      ALTER TABLE jobs ADD COLUMN start_by TEXT;
      ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX jobs_policy ON jobs (policy, vm) WHERE policy IS NOT NULL;
      CREATE INDEX jobs_in_flight ON jobs (state) WHERE state IN ('queued', 'running');
      CREATE TABLE policy_runs (
        policy TEXT PRIMARY KEY,
        last_due_at TEXT NOT NULL
      );
    `,
  },
  {
    // Issue 7, access: API tokens (hashes only) and the audit log (sqlite-access-store.ts).
    version: 7,
    sql: ACCESS_MIGRATION_SQL,
  },
  {
    // Issue 7, RPO watch and webhooks: RPO alerts (at most one open per VM and site, by a
    // partial unique index) and the webhook outbox (one row per event and URL, written in the
    // transaction that makes the event, kept until acknowledged, then pruned after a while).
    version: 8,
    sql: `
      CREATE TABLE rpo_alerts (
        alert_id TEXT PRIMARY KEY,
        vm TEXT NOT NULL,
        site TEXT NOT NULL,
        policy TEXT NOT NULL,
        rpo_ms INTEGER NOT NULL,
        newest_good_at TEXT,
        raised_at TEXT NOT NULL,
        resolved_at TEXT,
        resolution TEXT
      );
      CREATE UNIQUE INDEX rpo_alerts_open ON rpo_alerts (vm, site) WHERE resolved_at IS NULL;
      CREATE INDEX rpo_alerts_raised ON rpo_alerts (raised_at);
      CREATE TABLE webhook_outbox (
        event_id TEXT NOT NULL,
        url TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        delivered_at TEXT,
        PRIMARY KEY (event_id, url)
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
    `,
  },
  {
    // Issue 7, spread schedules: a policy's jobs of one schedule time are found by their due times
    // (a range, each VM due at its own offset) without reading every job the policy ever made.
    version: 9,
    sql: `
      CREATE INDEX jobs_policy_due ON jobs (policy, due_at) WHERE policy IS NOT NULL;
    `,
  },
];

/** The priority of a job inserted without one (and of jobs from before scheduling existed). */
const DEFAULT_JOB_PRIORITY = 50;

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
  tags: string;
}

interface PolicyRecord {
  name: string;
  policy: string;
  created_at: string;
  updated_at: string;
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
  cancel_requested_at: string | null;
  shared: number;
  policy: string | null;
  priority: number;
  due_at: string | null;
  not_before: string | null;
  start_by: string | null;
  max_attempts: number;
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
const VmTags = z.array(VmTag);

export class SqliteCatalog implements Catalog {
  private constructor(private readonly db: Database.Database) {
    // --- scale: statement cache ---
    // Each SQL text is compiled once and its statement reused: the hot path (events, heartbeats,
    // job changes) runs the same few dozen statements thousands of times a minute, and compiling
    // them was the controller's largest single cost in the scale bench (docs/PERFORMANCE.md).
    // Bounded: SQL built with variable IN lists could otherwise grow it without end.
    // Every run() counts as a write, so getJob can serve the several readers of one job change
    // (the change feed's subscribers each read the job) from one read until anything is written.
    const prepare = db.prepare.bind(db);
    const statements = new Map<string, Database.Statement>();
    db.prepare = ((sql: string) => {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= 1000) statements.clear();
        const created = prepare(sql);
        const run = created.run.bind(created);
        created.run = (...params: unknown[]) => {
          this.writes++;
          return run(...params);
        };
        statement = created;
        statements.set(sql, statement);
      }
      return statement;
    }) as typeof db.prepare;
  }

  /** Statement runs so far (any write); the getJob memo is valid while it stays the same. */
  private writes = 0;
  private lastJob: { readonly id: string; readonly writes: number; readonly job: JobRow | undefined } | undefined;

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

  upsertVm(vm: VmUpsert): void {
    this.db
      .prepare(
        `INSERT INTO vms (name, site, worker, hypervisor, disks, tags) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET site = excluded.site, worker = excluded.worker,
           hypervisor = excluded.hypervisor, disks = excluded.disks, tags = excluded.tags`,
      )
      .run(
        vm.name,
        vm.site,
        vm.worker,
        vm.hypervisor,
        JSON.stringify(VmDisks.parse(vm.disks)),
        JSON.stringify(VmTags.parse(vm.tags ?? [])),
      );
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
           created_at, published_at, started_at, finished_at, cancel_requested_at, shared,
           policy, priority, due_at, not_before, start_by, max_attempts)
         VALUES (@id, @kind, @state, @site, @worker, @vm, @attempt, @params, @result, @error, @progress,
           @createdAt, @publishedAt, @startedAt, @finishedAt, @cancelRequestedAt, @shared,
           @policy, @priority, @dueAt, @notBefore, @startBy, @maxAttempts)`,
      )
      .run({
        ...job,
        cancelRequestedAt: job.cancelRequestedAt ?? null,
        shared: job.shared === true ? 1 : 0,
        policy: job.policy ?? null,
        priority: job.priority ?? DEFAULT_JOB_PRIORITY,
        dueAt: job.dueAt ?? null,
        notBefore: job.notBefore ?? null,
        startBy: job.startBy ?? null,
        maxAttempts: job.maxAttempts ?? 1,
        params: JSON.stringify(job.params),
        result: job.result === null || job.result === undefined ? null : JSON.stringify(job.result),
        progress: job.progress ? JSON.stringify(job.progress) : null,
      });
  }

  getJob(id: string): JobRow | undefined {
    const memo = this.lastJob;
    if (memo?.id === id && memo.writes === this.writes) return memo.job;
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRecord | undefined;
    const job = row && toJob(row);
    this.lastJob = { id, writes: this.writes, job };
    return job;
  }

  listJobs(filter: JobFilter): JobRow[] {
    const where = whereClause({
      state: ['state = @state', filter.state],
      kind: ['kind = @kind', filter.kind],
      finishedSince: ['finished_at >= @finishedSince', filter.finishedSince],
    });
    const rows = this.db.prepare(`SELECT * FROM jobs ${where.sql} ORDER BY created_at DESC, id DESC LIMIT @limit`).all({ ...where.values, limit: filter.limit });
    return (rows as JobRecord[]).map(toJob);
  }

  listUnpublishedJobs(filter: { readonly readyAt?: string } = {}): JobRow[] {
    const rows =
      filter.readyAt === undefined
        ? this.db.prepare(`SELECT * FROM jobs WHERE published_at IS NULL AND state = 'queued' ORDER BY created_at, id`).all()
        : this.db
            .prepare(
              `SELECT * FROM jobs WHERE published_at IS NULL AND state = 'queued'
                 AND (not_before IS NULL OR not_before <= @at) AND (start_by IS NULL OR start_by > @at)
               ORDER BY created_at, id`,
            )
            .all({ at: filter.readyAt });
    return (rows as JobRecord[]).map(toJob);
  }

  nextNotBefore(after: string): string | undefined {
    const row = this.db
      .prepare(`SELECT MIN(not_before) AS at FROM jobs WHERE published_at IS NULL AND state = 'queued' AND not_before > ?`)
      .get(after) as { at: string | null };
    return row.at ?? undefined;
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
    if (update.worker !== undefined) set('worker', update.worker);
    if (update.cancelRequestedAt !== undefined) set('cancel_requested_at', update.cancelRequestedAt);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  listCancelRequestedJobs(): JobRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM jobs WHERE cancel_requested_at IS NOT NULL AND state IN ('queued', 'running')
           ORDER BY cancel_requested_at, id`,
        )
        .all() as JobRecord[]
    ).map(toJob);
  }

  // --- scheduling (issue 7, controller/policies/) ---
  listInFlightJobs(): JobRow[] {
    return (
      this.db
        .prepare(`SELECT * FROM jobs WHERE state IN ('queued', 'running') AND published_at IS NOT NULL ORDER BY created_at, id`)
        .all() as JobRecord[]
    ).map(toJob);
  }

  listPolicyJobs(policy: string, filter: PolicyJobFilter): JobRow[] {
    const rows =
      'dueFrom' in filter
        ? this.db
            .prepare('SELECT * FROM jobs WHERE policy = ? AND due_at >= ? AND due_at < ? ORDER BY created_at, id')
            .all(policy, filter.dueFrom, filter.dueBefore)
        : this.db
            .prepare(`SELECT * FROM jobs WHERE policy = ? AND state IN ('queued', 'running') ORDER BY created_at, id`)
            .all(policy);
    return (rows as JobRecord[]).map(toJob);
  }

  listRetryCandidates(): JobRow[] {
    return (
      this.db
        .prepare(`SELECT * FROM jobs WHERE state = 'failed' AND attempt < max_attempts ORDER BY created_at, id`)
        .all() as JobRecord[]
    ).map(toJob);
  }

  requeueJob(id: string, attempt: number, notBefore: string): boolean {
    const info = this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', attempt = attempt + 1, not_before = ?, published_at = NULL, started_at = NULL,
           finished_at = NULL, progress = NULL, result = NULL
         WHERE id = ? AND state = 'failed' AND attempt = ? AND attempt < max_attempts`,
      )
      .run(notBefore, id, attempt);
    return info.changes === 1;
  }

  skipJob(id: string, reason: string, at: string): boolean {
    const info = this.db
      .prepare(
        `UPDATE jobs SET state = 'skipped', error = ?, finished_at = ?
         WHERE id = ? AND state = 'queued' AND published_at IS NULL`,
      )
      .run(reason, at, id);
    return info.changes === 1;
  }

  getPolicyLastDue(policy: string): string | undefined {
    const row = this.db.prepare('SELECT last_due_at FROM policy_runs WHERE policy = ?').get(policy) as { last_due_at: string } | undefined;
    return row?.last_due_at;
  }

  setPolicyLastDue(policy: string, dueAt: string): void {
    this.db
      .prepare('INSERT INTO policy_runs (policy, last_due_at) VALUES (?, ?) ON CONFLICT (policy) DO UPDATE SET last_due_at = excluded.last_due_at')
      .run(policy, dueAt);
  }

  replaceVmWorkers(site: string, worker: string, vms: readonly string[]): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM vm_workers WHERE site = ? AND worker = ?').run(site, worker);
      const insert = this.db.prepare('INSERT INTO vm_workers (vm, site, worker) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
      for (const vm of vms) insert.run(vm, site, worker);
    });
  }

  listVmWorkers(vm: string): VmWorkerRow[] {
    return this.db.prepare('SELECT vm, site, worker FROM vm_workers WHERE vm = ? ORDER BY site, worker').all(vm) as VmWorkerRow[];
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
    const set = setClause(columns, update);
    if (set) this.db.prepare(`UPDATE backups SET ${set.sql} WHERE backup_id = @backupId AND site = @site`).run({ ...set.values, backupId, site });
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
    const where = whereClause({
      site: ['r.site = @site', filter.site],
      vm: [`EXISTS (SELECT 1 FROM json_each(r.affected) j WHERE json_extract(j.value, '$.vm') = @vm)`, filter.vm],
      since: ['r.at >= @since', filter.since],
    });
    const rows = this.db
      .prepare(`SELECT * FROM repairs r ${where.sql} ORDER BY r.at DESC, r.repair_id DESC LIMIT @limit`)
      .all({ ...where.values, limit: filter.limit });
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

  listPolicies(): PolicyRow[] {
    return (this.db.prepare('SELECT * FROM policies ORDER BY name').all() as PolicyRecord[]).map(toPolicy);
  }

  getPolicy(name: string): PolicyRow | undefined {
    const row = this.db.prepare('SELECT * FROM policies WHERE name = ?').get(name) as PolicyRecord | undefined;
    return row && toPolicy(row);
  }

  insertPolicy(policy: Policy, at: string): PolicyRow {
    const valid = Policy.parse(policy);
    const info = this.db
      .prepare('INSERT INTO policies (name, policy, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(valid.name, JSON.stringify(valid), at, at);
    if (info.changes !== 1) throw new PolicyExistsError(valid.name);
    return { policy: valid, createdAt: at, updatedAt: at };
  }

  updatePolicy(policy: Policy, at: string): PolicyRow {
    const valid = Policy.parse(policy);
    const row = this.db
      .prepare('UPDATE policies SET policy = ?, updated_at = ? WHERE name = ? RETURNING created_at')
      .get(JSON.stringify(valid), at, valid.name) as { created_at: string } | undefined;
    if (row === undefined) throw new NotFoundError('policy', valid.name);
    return { policy: valid, createdAt: row.created_at, updatedAt: at };
  }

  /** Its run state goes with it: a policy made again under the name starts afresh. */
  deletePolicy(name: string): boolean {
    return this.transaction(() => {
      this.db.prepare('DELETE FROM policy_runs WHERE policy = ?').run(name);
      return this.db.prepare('DELETE FROM policies WHERE name = ?').run(name).changes === 1;
    });
  }

  withdrawHeldPolicyJobs(policy: string, reason: string, at: string): string[] {
    const rows = this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', error = ?, finished_at = ?
         WHERE policy = ? AND state = 'queued' AND published_at IS NULL RETURNING id`,
      )
      .all(reason, at, policy) as { id: string }[];
    return rows.map((r) => r.id);
  }

  countsForMetrics(): CatalogCounts {
    return {
      jobs: this.db.prepare('SELECT kind, state, COUNT(*) AS count FROM jobs GROUP BY kind, state').all() as CatalogCounts['jobs'],
      repairs: this.db.prepare('SELECT site, object, COUNT(*) AS count FROM repairs GROUP BY site, object').all() as CatalogCounts['repairs'],
      openAlerts: this.db.prepare(`SELECT site, COUNT(*) AS count FROM alerts WHERE state = 'open' GROUP BY site`).all() as CatalogCounts['openAlerts'],
    };
  }

  // --- RPO watch and webhooks (issue 7) ---
  newestGoodCopies(): NewestGoodCopy[] {
    // SQLite fills the bare column backup_id from the row holding MAX(created_at).
    return this.db
      .prepare(
        `SELECT b.vm AS vm, b.site AS site, b.backup_id AS backupId, MAX(b.created_at) AS createdAt FROM backups b
         WHERE b.pruned_at IS NULL AND b.state = 'ok' AND NOT EXISTS (
           SELECT 1 FROM alert_backups ab JOIN alerts a ON a.alert_id = ab.alert_id
           WHERE ab.backup_id = b.backup_id AND ab.site = b.site AND a.state = 'open')
         GROUP BY b.vm, b.site ORDER BY b.vm, b.site`,
      )
      .all() as NewestGoodCopy[];
  }

  insertRpoAlert(a: RpoAlertRow): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO rpo_alerts (alert_id, vm, site, policy, rpo_ms, newest_good_at, raised_at, resolved_at, resolution)
         VALUES (@alertId, @vm, @site, @policy, @rpoMs, @newestGoodAt, @raisedAt, @resolvedAt, @resolution)
         ON CONFLICT DO NOTHING`,
      )
      .run({ ...a });
    return info.changes === 1;
  }

  resolveRpoAlert(alertId: string, resolvedAt: string, resolution: string): boolean {
    const info = this.db
      .prepare('UPDATE rpo_alerts SET resolved_at = ?, resolution = ? WHERE alert_id = ? AND resolved_at IS NULL')
      .run(resolvedAt, resolution, alertId);
    return info.changes === 1;
  }

  listRpoAlerts(filter: RpoAlertFilter): RpoAlertRow[] {
    const where = filter.openOnly ? ['resolved_at IS NULL'] : ['1'];
    const values: Record<string, unknown> = { limit: filter.limit };
    if (filter.vm !== undefined) {
      where.push('vm = @vm');
      values.vm = filter.vm;
    }
    if (filter.site !== undefined) {
      where.push('site = @site');
      values.site = filter.site;
    }
    const rows = this.db
      .prepare(`SELECT * FROM rpo_alerts WHERE ${where.join(' AND ')} ORDER BY raised_at DESC, alert_id DESC LIMIT @limit`)
      .all(values) as RpoAlertRecord[];
    return rows.map(toRpoAlert);
  }

  enqueueWebhook(d: WebhookDeliveryRow): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO webhook_outbox (event_id, url, type, body, created_at, attempts, next_attempt_at, last_error, delivered_at)
         VALUES (@eventId, @url, @type, @body, @createdAt, @attempts, @nextAttemptAt, @lastError, @deliveredAt)
         ON CONFLICT (event_id, url) DO NOTHING`,
      )
      .run({ ...d });
    return info.changes === 1;
  }

  listDueWebhooks(urls: readonly string[], at: string, limit: number): WebhookDeliveryRow[] {
    if (urls.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?
           AND url IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, created_at, event_id LIMIT ?`,
      )
      .all(at, JSON.stringify(urls), limit) as WebhookRecord[];
    return rows.map(toWebhookDelivery);
  }

  nextWebhookAttemptAt(urls: readonly string[]): string | undefined {
    if (urls.length === 0) return undefined;
    const row = this.db
      .prepare(
        `SELECT MIN(next_attempt_at) AS next FROM webhook_outbox
         WHERE delivered_at IS NULL AND url IN (SELECT value FROM json_each(?))`,
      )
      .get(JSON.stringify(urls)) as { next: string | null };
    return row.next ?? undefined;
  }

  updateWebhook(eventId: string, url: string, update: WebhookDeliveryUpdate): void {
    const columns: Record<keyof WebhookDeliveryUpdate, string> = {
      attempts: 'attempts',
      nextAttemptAt: 'next_attempt_at',
      lastError: 'last_error',
      deliveredAt: 'delivered_at',
    };
    const set = setClause(columns, update);
    if (set) this.db.prepare(`UPDATE webhook_outbox SET ${set.sql} WHERE event_id = @eventId AND url = @url`).run({ ...set.values, eventId, url });
  }

  pruneDeliveredWebhooks(cutoff: string): number {
    return this.db.prepare('DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?').run(cutoff).changes;
  }

  listWebhooks(filter: { readonly pendingOnly: boolean; readonly limit: number }): WebhookDeliveryRow[] {
    const clause = filter.pendingOnly ? 'WHERE delivered_at IS NULL' : '';
    const rows = this.db
      .prepare(`SELECT * FROM webhook_outbox ${clause} ORDER BY created_at DESC, event_id DESC, url LIMIT ?`)
      .all(filter.limit) as WebhookRecord[];
    return rows.map(toWebhookDelivery);
  }

  // --- access (API tokens and the audit log): delegated to SqliteAccessStore ---
  private get accessStore(): SqliteAccessStore {
    return new SqliteAccessStore(this.db);
  }

  insertApiToken(token: ApiTokenRow): void {
    this.accessStore.insertApiToken(token);
  }

  getApiToken(name: string): ApiTokenRow | undefined {
    return this.accessStore.getApiToken(name);
  }

  listApiTokens(): ApiTokenRow[] {
    return this.accessStore.listApiTokens();
  }

  revokeApiToken(name: string, at: string): boolean {
    return this.accessStore.revokeApiToken(name, at);
  }

  touchApiToken(id: string, at: string): void {
    this.accessStore.touchApiToken(id, at);
  }

  insertAuditEntry(entry: AuditEntryInsert): void {
    this.accessStore.insertAuditEntry(entry);
  }

  listAuditEntries(filter: AuditFilter): AuditEntryRow[] {
    return this.accessStore.listAuditEntries(filter);
  }

  pruneAuditEntries(before: string): number {
    return this.accessStore.pruneAuditEntries(before);
  }
  // --- end of access ---

  close(): void {
    this.db.close();
  }
}

interface RpoAlertRecord {
  alert_id: string;
  vm: string;
  site: string;
  policy: string;
  rpo_ms: number;
  newest_good_at: string | null;
  raised_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

function toRpoAlert(r: RpoAlertRecord): RpoAlertRow {
  return {
    alertId: r.alert_id,
    vm: r.vm,
    site: r.site,
    policy: r.policy,
    rpoMs: r.rpo_ms,
    newestGoodAt: r.newest_good_at,
    raisedAt: r.raised_at,
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
  };
}

interface WebhookRecord {
  event_id: string;
  url: string;
  type: string;
  body: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  delivered_at: string | null;
}

function toWebhookDelivery(r: WebhookRecord): WebhookDeliveryRow {
  return {
    eventId: r.event_id,
    url: r.url,
    type: r.type,
    body: r.body,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
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
    tags: parseJsonColumn(VmTags, r.tags, `vms.tags of ${r.name}`),
  };
}

// --- scale: parsed policies memo ---
/**
 * Parsed policies by name and stored text: the policy scheduler reads every policy at each due
 * instant, and parsing one (zod, a croner parse per cron expression) cost about a millisecond.
 * Each caller gets its own copy.
 */
const parsedPolicies = new Map<string, { readonly text: string; readonly policy: Policy }>();
const PARSED_POLICIES_LIMIT = 10_000;

function parsePolicyColumn(r: PolicyRecord): Policy {
  const known = parsedPolicies.get(r.name);
  if (known?.text === r.policy) return structuredClone(known.policy);
  const policy = parseJsonColumn(Policy, r.policy, `policies.policy of ${r.name}`);
  if (parsedPolicies.size >= PARSED_POLICIES_LIMIT) parsedPolicies.clear();
  parsedPolicies.set(r.name, { text: r.policy, policy: structuredClone(policy) });
  return policy;
}

function toPolicy(r: PolicyRecord): PolicyRow {
  return {
    policy: parsePolicyColumn(r),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
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
    shared: r.shared === 1,
    cancelRequestedAt: r.cancel_requested_at,
    policy: r.policy,
    priority: r.priority,
    dueAt: r.due_at,
    notBefore: r.not_before,
    startBy: r.start_by,
    maxAttempts: r.max_attempts,
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

