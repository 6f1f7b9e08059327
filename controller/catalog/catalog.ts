/**
 * The catalog: what the controller knows about workers, VMs, jobs, backups, repairs and damage
 * alerts, and which worker events it has already applied. A port: the domain (controller/jobs) talks to it only through
 * this interface; `SqliteCatalog` is the adapter. All times are ISO-8601 strings from the Clock.
 *
 * Idempotency lives here: `recordEvent` reports whether an event id is new, and callers apply an
 * event inside `transaction` together with that record, so a replayed event changes nothing.
 */
import { z } from 'zod';
import type { DamageAlert, RepairRecord } from '../../shared/messages/events.js';
import type { JobKind } from '../../shared/messages/jobs.js';

export type WorkerKind = 'agent' | 'storage';
export type WorkerState = 'online' | 'offline';

export interface WorkerRow {
  readonly site: string;
  readonly id: string;
  readonly kind: WorkerKind;
  readonly state: WorkerState;
  readonly lastSeenAt: string;
  /** gRPC address, for storages. */
  readonly address: string | null;
  readonly version: string;
}

export const VmDisks = z.array(z.object({ name: z.string(), sizeBytes: z.number().int().nonnegative() }));
export type VmDisks = z.infer<typeof VmDisks>;

export interface VmRow {
  readonly name: string;
  readonly site: string;
  readonly worker: string;
  readonly hypervisor: string;
  readonly disks: VmDisks;
}

export const JobStates = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobState = (typeof JobStates)[number];

export const JobProgress = z.object({
  phase: z.string(),
  doneBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative(),
  /** When the worker reported it, to drop progress that arrives out of order. */
  at: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/** What the metrics endpoint reads from the catalog: jobs by kind and state, repairs, open alerts. */
export interface CatalogCounts {
  readonly jobs: readonly { readonly kind: string; readonly state: string; readonly count: number }[];
  readonly repairs: readonly { readonly site: string; readonly object: string; readonly count: number }[];
  readonly openAlerts: readonly { readonly site: string; readonly count: number }[];
}

export interface JobRow {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** The worker the job was sent to. */
  readonly site: string;
  readonly worker: string;
  readonly vm: string | null;
  readonly attempt: number;
  /** The job's params as published (JobMessage.params). */
  readonly params: unknown;
  /** The worker's result (JobResult.result), once succeeded. */
  readonly result: unknown;
  readonly error: string | null;
  readonly progress: JobProgress | null;
  readonly createdAt: string;
  readonly publishedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** The fields of a job that move as events arrive. */
export type JobUpdate = Partial<Pick<JobRow, 'state' | 'result' | 'error' | 'progress' | 'startedAt' | 'finishedAt'>>;

export const BackupDisks = VmDisks;

export type BackupState = 'ok' | 'damaged';

/**
 * One copy of a backup at one site. A pruned copy keeps its row for history (`prunedAt` set) but
 * is left out of listings, restores and every other lookup of present copies. Times compare as
 * strings: they are all ISO-8601 UTC with milliseconds.
 */
export interface BackupRow {
  readonly backupId: string;
  readonly site: string;
  readonly vm: string;
  readonly createdAt: string;
  readonly mode: 'full' | 'incremental';
  readonly parentBackupId: string | null;
  readonly jobId: string;
  readonly sizeBytes: number;
  readonly disks: VmDisks;
  readonly verifiedAt: string | null;
  /**
   * Read: `damaged` when the newest finding says so or an open damage alert covers this copy.
   * Written (insert, update): the newest finding alone.
   */
  readonly state: BackupState;
  /** When the finding behind `state` was made, so an older finding applied late is ignored. */
  readonly stateAt: string | null;
  /** The copy cannot be pruned or deleted before this time. */
  readonly lockedUntil: string | null;
  /** When a prune removed this copy; null while it is present. */
  readonly prunedAt: string | null;
  /** When a worker last reported this copy present (its backup or a sync that copied it). */
  readonly seenAt: string | null;
}

/** The fields of a backup copy that move as events arrive. */
export type BackupUpdate = Partial<
  Pick<BackupRow, 'verifiedAt' | 'state' | 'stateAt' | 'lockedUntil' | 'prunedAt' | 'seenAt'>
>;

export interface JobFilter {
  readonly state?: JobState;
  readonly kind?: JobKind;
  /** Only jobs that finished at or after this time. */
  readonly finishedSince?: string;
  readonly limit: number;
}

export interface BackupFilter {
  readonly vm?: string;
  readonly site?: string;
  /** Also the rows of pruned copies (history: the copy was there once). */
  readonly includePruned?: boolean;
}

export interface RepairFilter {
  readonly site?: string;
  /** Repairs whose affected ranges name this VM. */
  readonly vm?: string;
  /** Repairs made at or after this time. */
  readonly since?: string;
  readonly limit: number;
}

export const AlertStates = ['open', 'resolved'] as const;
export type AlertState = (typeof AlertStates)[number];

/** A damage alert as raised by a storage, and whether (when, why) it was resolved. */
export interface AlertRow extends DamageAlert {
  readonly state: AlertState;
  readonly resolvedAt: string | null;
  /** The resolution's reason ("repaired from b", "chunk re-sent by a backup", ...). */
  readonly resolution: string | null;
}

export interface AlertFilter {
  /** Only open alerts (false: every alert, resolved ones too). */
  readonly openOnly: boolean;
  readonly limit: number;
}

export interface Catalog {
  /** Runs `fn` atomically: every write in it lands, or none does. Nests by joining the outer one. */
  transaction<T>(fn: () => T): T;

  /** Records an event id; false when it was recorded before (the event was already applied). */
  recordEvent(eventId: string, appliedAt: string): boolean;

  /** Inserts or refreshes a worker from a heartbeat. */
  upsertWorker(worker: WorkerRow): void;
  /** Marks online workers not seen since `cutoff` offline; returns the workers it changed. */
  markWorkersOffline(cutoff: string): WorkerRow[];
  listWorkers(): WorkerRow[];

  /** Inserts or replaces a VM (inventory). */
  upsertVm(vm: VmRow): void;
  getVm(name: string): VmRow | undefined;
  listVms(): VmRow[];

  /** Inserts a new job. */
  insertJob(job: JobRow): void;
  getJob(id: string): JobRow | undefined;
  /** Newest first. */
  listJobs(filter: JobFilter): JobRow[];
  /** Queued jobs never confirmed published, oldest first. */
  listUnpublishedJobs(): JobRow[];
  markJobPublished(id: string, at: string): void;
  updateJob(id: string, update: JobUpdate): void;

  /** Inserts a backup copy; a copy already recorded at that site is kept as it is. Returns true if inserted. */
  insertBackup(backup: BackupRow): boolean;
  /** The row of one copy, pruned or not. */
  getBackupCopy(backupId: string, site: string): BackupRow | undefined;
  /** Every present (not pruned) copy of a backup, oldest record first. */
  getBackupCopies(backupId: string): BackupRow[];
  /** Present copies, newest first. */
  listBackups(filter: BackupFilter): BackupRow[];
  /** The newest present backup of a VM at any site. */
  latestBackup(vm: string): BackupRow | undefined;
  /**
   * Changes the given fields of one copy; no row, no change. `state` here is the newest finding
   * of a check (verify, a resolved alert); the state a copy is read with is also `damaged`
   * while an open alert covers it.
   */
  updateBackup(backupId: string, site: string, update: BackupUpdate): void;

  /** Inserts a repair; false when its id was recorded before. Times are stored as given. */
  insertRepair(repair: RepairRecord): boolean;
  /** Repairs, newest first. */
  listRepairs(filter: RepairFilter): RepairRecord[];

  /**
   * Inserts a raised alert, covering the copies at its site of every backup it names (its
   * `backupId` and every affected range's). It is inserted resolved when its resolution was
   * recorded first. False when the alert id is known (a re-raise changes nothing).
   */
  insertAlert(alert: DamageAlert): boolean;
  /**
   * Records the resolution of an alert, raised or not yet: the first resolution wins, false for
   * any later one. A known open alert becomes resolved; an alert raised later is inserted resolved.
   */
  recordAlertResolution(alertId: string, resolvedAt: string, reason: string): boolean;
  getAlert(alertId: string): AlertRow | undefined;
  /** Newest raised first. */
  listAlerts(filter: AlertFilter): AlertRow[];

  /** Grouped row counts for the metrics endpoint, read at each scrape. */
  countsForMetrics(): CatalogCounts;

  close(): void;
}
