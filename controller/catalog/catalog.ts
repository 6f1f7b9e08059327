/**
 * The catalog: what the controller knows about workers, VMs, jobs, backups, repairs and damage
 * alerts, and which worker events it has already applied. A port: the domain (controller/jobs) talks to it only through
 * this interface; `SqliteCatalog` is the adapter. All times are ISO-8601 strings from the Clock.
 *
 * Idempotency lives here: `recordEvent` reports whether an event id is new, and callers apply an
 * event inside `transaction` together with that record, so a replayed event changes nothing.
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { AccessStore } from './access-store.js';
import type { DamageAlert, RepairRecord } from '../../shared/messages/events.js';
import type { JobKind } from '../../shared/messages/jobs.js';
import type { Policy } from '../../shared/messages/policy.js';

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
  /** Tags from the VM's agent config (policies select VMs by tag). */
  readonly tags: readonly string[];
}

/** A VM as written by inventory; `tags` defaults to none. */
export type VmUpsert = Omit<VmRow, 'tags'> & { readonly tags?: readonly string[] };

/** A stored policy and when it was created and last changed. */
export interface PolicyRow {
  readonly policy: Policy;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A policy of that name is already stored (create it under another name, or edit it). */
export class PolicyExistsError extends AppError {
  constructor(readonly policyName: string) {
    super('ALREADY_EXISTS', `policy ${policyName} already exists; edit it (bulwark policy edit) or choose another name`, {
      details: { policy: policyName },
    });
  }
}

/**
 * queued → running → succeeded | failed | cancelled (bulwark cancel); skipped: a policy job whose
 * start window passed before it could start. The last four are final.
 */
export const JobStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type JobState = (typeof JobStates)[number];

/** The states a job ends in; nothing moves it out of one. */
export const FinishedJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

/** Whether a job in this state has ended. */
export function isFinishedJobState(state: string): boolean {
  return (FinishedJobStates as readonly string[]).includes(state);
}

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
  /**
   * Published on the site's shared queue (a VM several agents report): `worker` is `shared`
   * until an agent starts it, then that agent. Absent: false.
   */
  readonly shared?: boolean;
  /** When `bulwark cancel` asked the worker to stop it; absent or null: never. */
  readonly cancelRequestedAt?: string | null;
  // --- scheduling (issue 7, controller/policies/); absent: a manual job's defaults ---
  /** The policy that made the job; absent or null: made by hand. */
  readonly policy?: string | null;
  /** Higher goes first when jobs wait for a dispatch slot (0-100). */
  readonly priority?: number;
  /** The schedule time of a policy job; null: due when created. */
  readonly dueAt?: string | null;
  /** Not published before this time (a retry's backoff, a start window's opening). */
  readonly notBefore?: string | null;
  /** Skipped when still unpublished at this time (the end of its start window). */
  readonly startBy?: string | null;
  /** Attempts allowed in all; a retryable failure below it is queued again. */
  readonly maxAttempts?: number;
}

/** The fields of a job that move as events arrive (worker: who took a shared job). */
export type JobUpdate = Partial<
  Pick<JobRow, 'state' | 'result' | 'error' | 'progress' | 'startedAt' | 'finishedAt' | 'worker' | 'cancelRequestedAt'>
>;

/** One agent that reports a VM in its inventory (several do when they reach the same disks). */
export interface VmWorkerRow {
  readonly vm: string;
  readonly site: string;
  readonly worker: string;
}

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

/** Which of a policy's jobs: the unfinished ones, or those due in [dueFrom, dueBefore) (ISO-8601 UTC). */
export type PolicyJobFilter = { readonly unfinished: true } | { readonly dueFrom: string; readonly dueBefore: string };

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

/** Everything the controller stores; API tokens and the audit log are in AccessStore (access-store.ts). */
export interface Catalog extends AccessStore {
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
  upsertVm(vm: VmUpsert): void;
  getVm(name: string): VmRow | undefined;
  listVms(): VmRow[];

  /** Inserts a new job. */
  insertJob(job: JobRow): void;
  getJob(id: string): JobRow | undefined;
  /** Newest first. */
  listJobs(filter: JobFilter): JobRow[];
  /**
   * Queued jobs never confirmed published, oldest first; with `readyAt`, only those that may go
   * out at that time (past their notBefore, before their startBy).
   */
  listUnpublishedJobs(filter?: { readonly readyAt?: string }): JobRow[];
  /** The earliest notBefore after `after` of a queued, unpublished job (held until then); undefined: none. */
  nextNotBefore(after: string): string | undefined;
  markJobPublished(id: string, at: string): void;
  updateJob(id: string, update: JobUpdate): void;
  /** Jobs with a cancel requested that have not finished, oldest request first. */
  listCancelRequestedJobs(): JobRow[];
  // --- scheduling (issue 7, controller/policies/) ---
  /** Published jobs not finished (queued or running): the jobs holding dispatch slots. */
  listInFlightJobs(): JobRow[];
  /** Jobs a policy made: its unfinished ones (queued, running), or those due in [dueFrom, dueBefore) (one schedule time, spread over its VMs). */
  listPolicyJobs(policy: string, filter: PolicyJobFilter): JobRow[];
  /** Failed jobs with attempts left (attempt < maxAttempts), oldest first. */
  listRetryCandidates(): JobRow[];
  /**
   * Queues failed attempt `attempt` of a job again as attempt + 1, unpublished, not before
   * `notBefore` (its error kept until the next attempt ends); false when the job is no longer
   * failed at that attempt (retried already).
   */
  requeueJob(id: string, attempt: number, notBefore: string): boolean;
  /** Ends a queued, unpublished job as skipped with the reason; false when it was published or ended meanwhile. */
  skipJob(id: string, reason: string, at: string): boolean;
  /** The newest schedule time a policy fired for; undefined: never. */
  getPolicyLastDue(policy: string): string | undefined;
  setPolicyLastDue(policy: string, dueAt: string): void;

  /** Records that `worker` at `site` reports exactly these VMs now (its inventory), replacing what it reported before. */
  replaceVmWorkers(site: string, worker: string, vms: readonly string[]): void;
  /** Every agent that reports the VM, by site and worker. */
  listVmWorkers(vm: string): VmWorkerRow[];

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

  /** Every stored policy, by name. */
  listPolicies(): PolicyRow[];
  getPolicy(name: string): PolicyRow | undefined;
  /** Stores a new policy; PolicyExistsError when the name is taken. */
  insertPolicy(policy: Policy, at: string): PolicyRow;
  /** Replaces a stored policy (its createdAt kept); NotFoundError when there is none of that name. */
  updatePolicy(policy: Policy, at: string): PolicyRow;
  /** Removes a policy (its jobs and backups stay); false when there was none. */
  deletePolicy(name: string): boolean;
  /**
   * Ends the policy's jobs that have not gone out (queued, unpublished: made ahead of their due
   * time, waiting for a window, a slot or a retry's backoff) as cancelled with `reason`; returns
   * their ids.
   */
  withdrawHeldPolicyJobs(policy: string, reason: string, at: string): string[];

  /** Grouped row counts for the metrics endpoint, read at each scrape. */
  countsForMetrics(): CatalogCounts;

  // --- RPO watch and webhooks (issue 7) ---
  /** Per VM and site, the newest good copy: present (not pruned), not damaged, no open alert over it. */
  newestGoodCopies(): NewestGoodCopy[];
  /** Inserts an open RPO alert; false when the VM already has an open one at that site (it stays). */
  insertRpoAlert(alert: RpoAlertRow): boolean;
  /** Resolves an open RPO alert; false when it is not open (resolved before, or unknown). */
  resolveRpoAlert(alertId: string, resolvedAt: string, resolution: string): boolean;
  /** RPO alerts, newest raised first. */
  listRpoAlerts(filter: RpoAlertFilter): RpoAlertRow[];
  /** Queues one webhook delivery; false when that event is already queued for that URL. */
  enqueueWebhook(delivery: WebhookDeliveryRow): boolean;
  /** Undelivered deliveries to these URLs due at or before `at`, oldest due first. */
  listDueWebhooks(urls: readonly string[], at: string, limit: number): WebhookDeliveryRow[];
  /** The earliest next attempt of an undelivered delivery to these URLs; undefined: none pending. */
  nextWebhookAttemptAt(urls: readonly string[]): string | undefined;
  /** Records a failed attempt (attempt count, next try, error) or, with `deliveredAt`, the acknowledged one. */
  updateWebhook(eventId: string, url: string, update: WebhookDeliveryUpdate): void;
  /** Removes delivered rows delivered before `cutoff`; returns how many. */
  pruneDeliveredWebhooks(cutoff: string): number;
  /** Deliveries, newest first (every one, or the undelivered only). */
  listWebhooks(filter: { readonly pendingOnly: boolean; readonly limit: number }): WebhookDeliveryRow[];

  close(): void;
}

/** The newest good copy of a VM's backups at one site. */
export interface NewestGoodCopy {
  readonly vm: string;
  readonly site: string;
  readonly backupId: string;
  readonly createdAt: string;
}

/**
 * An RPO alert (issue 7): the newest good copy of a VM at a site got older than its target, or
 * there is none. At most one is open per VM and site; it is resolved once a young enough copy is
 * there (or no policy with an RPO watches the pair any more).
 */
export interface RpoAlertRow {
  readonly alertId: string;
  readonly vm: string;
  readonly site: string;
  /** The policy whose target (the smallest over the policies watching the pair) was missed. */
  readonly policy: string;
  readonly rpoMs: number;
  /** The creation time of the newest good copy when the alert was raised; null: none. */
  readonly newestGoodAt: string | null;
  readonly raisedAt: string;
  readonly resolvedAt: string | null;
  readonly resolution: string | null;
}

export interface RpoAlertFilter {
  readonly openOnly: boolean;
  readonly vm?: string;
  readonly site?: string;
  readonly limit: number;
}

/**
 * One event to POST to one webhook URL (the outbox): the exact body, signed at send time, and
 * its delivery state. Written in the transaction that makes the event, so a crash loses neither.
 */
export interface WebhookDeliveryRow {
  readonly eventId: string;
  readonly url: string;
  readonly type: string;
  /** The JSON body, exactly as it is POSTed (the signature covers these bytes). */
  readonly body: string;
  readonly createdAt: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
}

export type WebhookDeliveryUpdate = Partial<Pick<WebhookDeliveryRow, 'attempts' | 'nextAttemptAt' | 'lastError' | 'deliveredAt'>>;
