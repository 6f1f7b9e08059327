/**
 * Job messages: what the controller asks a worker to do. One zod schema per kind, used by the
 * publisher and the worker alike. `attempt` is the controller's retry number (not JetStream's
 * delivery count); together with `jobId` it keys storage sessions, so a redelivered attempt whose
 * backup already committed reports that backup instead of making another.
 */
import { z } from 'zod';
import { ObjectName, SiteId } from '../ids.js';

/** A storage the job talks to: its site and gRPC address. */
export const StorageRef = z.object({
  site: SiteId,
  address: z.string().min(1),
});
export type StorageRef = z.infer<typeof StorageRef>;

export const BackupMode = z.enum(['auto', 'full', 'incremental']);
export type BackupMode = z.infer<typeof BackupMode>;

/**
 * The consistency a policy asks of a backup (the shape of policy.ts's PolicyConsistency, which
 * imports this file). 'application' with a VM whose agent config quiesces nothing: 'abort' fails
 * the backup, 'continue' makes it crash-consistent and says why in the manifest. Absent: the VM's
 * agent config alone decides.
 */
export const RequestedConsistency = z.object({
  mode: z.enum(['crash', 'application']),
  onFailure: z.enum(['abort', 'continue']),
});
export type RequestedConsistency = z.infer<typeof RequestedConsistency>;

export const BackupJobParams = z.object({
  vm: ObjectName,
  mode: BackupMode,
  storage: StorageRef,
  consistency: RequestedConsistency.optional(),
});
export type BackupJobParams = z.infer<typeof BackupJobParams>;

export const RestoreJobParams = z.object({
  backupId: z.string().min(1),
  vm: ObjectName,
  /** Absolute directory on the agent's host; disks land there as <disk>.img. */
  targetDir: z.string().startsWith('/', 'must be an absolute path'),
  storage: StorageRef,
  /**
   * Read and check everything with the agent's key (decrypt, digest, content HMAC) and write
   * nothing: the key holder's deep verify. targetDir is then unused.
   */
  verifyOnly: z.boolean().default(false),
  /** Image format of the restored disks: raw (`<disk>.img`, sparse) or qcow2 (`<disk>.qcow2`). */
  format: z.enum(['raw', 'qcow2']).default('raw'),
  /** Start the VM on the restored disks once they are complete (QEMU, from the backup's VM definition). */
  start: z.boolean().default(false),
});
export type RestoreJobParams = z.infer<typeof RestoreJobParams>;

/** Rate and concurrency of the blob transfer of a sync. */
const syncTransfer = {
  /** Token-bucket limit on blob bytes moved per second; absent: unlimited. */
  rateBytesPerSecond: z.number().int().min(1024, 'must be at least 1024 bytes per second').optional(),
  /** GetChunks (pull) or PutChunks (push) calls in flight; default 2. */
  concurrency: z.number().int().min(1, 'must be at least 1').max(32, 'must be at most 32').default(2),
};

/**
 * A sync between two sites. `pull` (the default) runs at the replica and reads from `source`
 * with a read-only credential; `push` runs at the primary and writes to `target` (for a replica
 * that cannot reach back) with a credential that can add backups and chunks, never delete.
 */
export const SyncJobParams = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('pull'), source: StorageRef, ...syncTransfer }),
  z.object({ mode: z.literal('push'), target: StorageRef, ...syncTransfer }),
]);
export type SyncJobParams = z.infer<typeof SyncJobParams>;

export const VerifyJobParams = z.object({
  repair: z.boolean(),
  /** Storages that may supply good copies of damaged chunks. */
  peers: z.array(StorageRef),
  /** One backup, every backup of one VM, or (both absent) the whole datastore. */
  backupId: z.string().min(1).optional(),
  vm: ObjectName.optional(),
  /** Skip backups verified within this many milliseconds (unless `force`). 0: skip none. */
  skipVerifiedWithinMs: z.number().int().nonnegative().default(0),
  force: z.boolean().default(false),
});
export type VerifyJobParams = z.infer<typeof VerifyJobParams>;

/** How many backups each rule keeps (restic's and proxmox-backup's rules). */
export const RetentionRules = z
  .object({
    last: z.number().int().positive(),
    hourly: z.number().int().positive(),
    daily: z.number().int().positive(),
    weekly: z.number().int().positive(),
    monthly: z.number().int().positive(),
    yearly: z.number().int().positive(),
  })
  .partial();
export type RetentionRules = z.infer<typeof RetentionRules>;

export const PruneJobParams = z.object({
  /** Absent: every VM (rules apply per VM). */
  vm: ObjectName.optional(),
  keep: RetentionRules,
  dryRun: z.boolean(),
});
export type PruneJobParams = z.infer<typeof PruneJobParams>;

export const GcJobParams = z.object({
  /** Unreferenced chunks younger than this are kept (uploads in flight, clocks apart). */
  graceMs: z.number().int().nonnegative(),
  dryRun: z.boolean(),
});
export type GcJobParams = z.infer<typeof GcJobParams>;

export const LockJobParams = z.object({
  backupId: z.string().min(1),
  /** The backup and every chunk it references cannot be deleted before this time. */
  until: z.iso.datetime(),
});
export type LockJobParams = z.infer<typeof LockJobParams>;

/**
 * A snapshot name: letters, digits, '.', '_' or '-', at most 64, not only digits (qemu-img takes
 * an all-digit name for a snapshot id). Names Bulwark makes itself are `bulwark-<ULID>`.
 */
export const SnapshotName = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"')
  .refine((n) => !/^\d+$/.test(n), 'must not be only digits (QEMU would take it for a snapshot id)');

/** Prefix of the snapshot names Bulwark makes; a name given for a new snapshot may not use it. */
export const OWN_SNAPSHOT_PREFIX = 'bulwark-';

export const SnapshotOp = z.enum(['create', 'list', 'remove', 'revert'], { error: 'must be one of create, list, remove, revert' });
export type SnapshotOp = z.infer<typeof SnapshotOp>;

/** Snapshot management of a VM's disks at its agent (no data leaves the host). */
export const SnapshotJobParams = z
  .object({
    vm: ObjectName,
    op: SnapshotOp,
    /** create: absent for `bulwark-<ULID>`; remove and revert: required. */
    name: SnapshotName.optional(),
    /** create: afterwards keep only the `keep` newest snapshots Bulwark named (user-named ones are never removed). */
    keep: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.op === 'remove' || p.op === 'revert') && p.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: `is required to ${p.op} a snapshot` });
    }
    if (p.op !== 'create' && p.keep !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keep'], message: 'applies only to create' });
    }
    if (p.op === 'create' && p.name?.startsWith(OWN_SNAPSHOT_PREFIX) === true) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: `must not start with "${OWN_SNAPSHOT_PREFIX}" (reserved for the names Bulwark makes)` });
    }
    if (p.op === 'list' && p.name !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'is not used by list' });
    }
  });
export type SnapshotJobParams = z.infer<typeof SnapshotJobParams>;

const jobBase = {
  jobId: z.string().min(1),
  attempt: z.number().int().positive(),
  createdAt: z.iso.datetime(),
  /**
   * When the job became due: its schedule time for a policy job (the dispatch latency a worker
   * measures runs from here to its receipt), else absent (due when created).
   */
  dueAt: z.iso.datetime().optional(),
};

/** A job as published on `bulwark.jobs.<site>.<worker>`. */
export const JobMessage = z.discriminatedUnion('kind', [
  z.object({ ...jobBase, kind: z.literal('backup'), params: BackupJobParams }),
  z.object({ ...jobBase, kind: z.literal('restore'), params: RestoreJobParams }),
  z.object({ ...jobBase, kind: z.literal('sync'), params: SyncJobParams }),
  z.object({ ...jobBase, kind: z.literal('verify'), params: VerifyJobParams }),
  z.object({ ...jobBase, kind: z.literal('prune'), params: PruneJobParams }),
  z.object({ ...jobBase, kind: z.literal('gc'), params: GcJobParams }),
  z.object({ ...jobBase, kind: z.literal('lock'), params: LockJobParams }),
  z.object({ ...jobBase, kind: z.literal('snapshot'), params: SnapshotJobParams }),
]);
export type JobMessage = z.infer<typeof JobMessage>;
export type JobKind = JobMessage['kind'];
export const JobKind = z.enum(['backup', 'restore', 'sync', 'verify', 'prune', 'gc', 'lock', 'snapshot']);

/** Which job kinds each worker kind runs. */
export const jobKindsOf = {
  agent: ['backup', 'restore', 'snapshot'],
  storage: ['sync', 'verify', 'prune', 'gc', 'lock'],
} as const satisfies Record<string, readonly JobKind[]>;

/**
 * A cancel request, core NATS on `bulwark.cancel.<site>.<worker>` (and `.shared` for a job on the
 * site's shared queue), re-sent by the controller until the job ends. A worker running the job
 * aborts it; a worker that receives the job later reports it cancelled without running it.
 */
export const CancelRequest = z.object({
  jobId: z.string().min(1),
  attempt: z.number().int().positive(),
  requestedAt: z.iso.datetime(),
});
export type CancelRequest = z.infer<typeof CancelRequest>;

/**
 * Asked by a worker at start, request-reply on `subjects.pendingCancels`: the controller answers
 * with the CancelRequest[] of every unfinished job of that worker (and of its site's shared queue)
 * whose cancel was requested, so a worker that was away knows them before it pulls a job.
 */
export const PendingCancelsRequest = z.object({ site: SiteId, worker: SiteId });
export type PendingCancelsRequest = z.infer<typeof PendingCancelsRequest>;
