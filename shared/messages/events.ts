/**
 * Events: everything a worker reports, on `bulwark.events.<site>.<worker>.<kind>`. Event ids are
 * unique (ULIDs) and double as JetStream msgIDs, so a retried publish is stored once and the
 * controller applies each event at most once, in whatever order they arrive.
 */
import { z } from 'zod';
import { ObjectName, SiteId } from '../ids.js';
import { VmTag } from './policy.js';
import {
  BackupResult,
  GcResult,
  LockResult,
  PruneResult,
  RestoreResult,
  SnapshotResult,
  SyncResult,
  VerifyResult,
} from './results.js';

const eventBase = {
  eventId: z.string().min(1),
  site: SiteId,
  worker: SiteId,
  at: z.iso.datetime(),
};

const jobRef = {
  jobId: z.string().min(1),
  attempt: z.number().int().positive(),
};

export const VmInventory = z.object({
  name: ObjectName,
  hypervisor: z.string(),
  disks: z.array(z.object({ name: ObjectName, sizeBytes: z.number().int().nonnegative() })),
  /** The VM's tags from its agent config (policies select VMs by tag); absent: none. */
  tags: z.array(VmTag).optional(),
});
export type VmInventory = z.infer<typeof VmInventory>;

/** A job's result, by kind. */
export const JobResult = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('backup'), result: BackupResult }),
  z.object({ kind: z.literal('restore'), result: RestoreResult }),
  z.object({ kind: z.literal('sync'), result: SyncResult }),
  z.object({ kind: z.literal('verify'), result: VerifyResult }),
  z.object({ kind: z.literal('prune'), result: PruneResult }),
  z.object({ kind: z.literal('gc'), result: GcResult }),
  z.object({ kind: z.literal('lock'), result: LockResult }),
  z.object({ kind: z.literal('snapshot'), result: SnapshotResult }),
]);
export type JobResult = z.infer<typeof JobResult>;

/** A byte range of a backed-up disk that depends on a damaged or repaired chunk. */
export const AffectedRange = z.object({
  backupId: z.string().min(1),
  vm: z.string().min(1),
  disk: z.string().min(1),
  offsetBytes: z.number().int().nonnegative(),
  lengthBytes: z.number().int().nonnegative(),
});
export type AffectedRange = z.infer<typeof AffectedRange>;

/** What found the damage a repair healed. */
export const RepairTrigger = z.enum(['read', 'verify', 'scrub', 'sync', 'startup']);
export type RepairTrigger = z.infer<typeof RepairTrigger>;

/**
 * One repair: a chunk, a fixed index or a manifest found damaged or missing at `site`, its
 * damaged copy quarantined, a good copy fetched from `peer`, checked and written atomically.
 */
export const RepairRecord = z.object({
  /** ULID, unique: the event id of the `repair` event that carries it. */
  repairId: z.string().min(1),
  site: SiteId,
  /** chunk: `digest` is set; index and manifest: `backupId` (and `disk` for an index). */
  object: z.enum(['chunk', 'index', 'manifest']),
  digest: z.string().nullable(),
  backupId: z.string().nullable(),
  disk: z.string().nullable(),
  /** What was wrong with the local copy ("missing", "crc mismatch", ...). */
  problem: z.string(),
  trigger: RepairTrigger,
  peer: SiteId,
  bytes: z.number().int().nonnegative(),
  at: z.iso.datetime(),
  /** Backups, disks and byte ranges that use the object (for a chunk: every position referencing it). */
  affected: z.array(AffectedRange),
});
export type RepairRecord = z.infer<typeof RepairRecord>;

/**
 * Damage no peer could heal: the affected backups are damaged at `site` until the alert is
 * resolved (the object became good again: a later repair, a backup that re-sent the chunk, or
 * every affected backup pruned).
 */
export const DamageAlert = z.object({
  /** ULID; stable for one damaged object at one site until resolved. */
  alertId: z.string().min(1),
  site: SiteId,
  object: z.enum(['chunk', 'index', 'manifest']),
  digest: z.string().nullable(),
  backupId: z.string().nullable(),
  disk: z.string().nullable(),
  problem: z.string(),
  /** Peers asked, and why each could not supply a good copy. */
  peersTried: z.array(z.object({ site: z.string(), error: z.string() })),
  raisedAt: z.iso.datetime(),
  affected: z.array(AffectedRange),
  /** One line an operator reads: the VMs, disks and byte ranges that cannot be restored. */
  message: z.string(),
});
export type DamageAlert = z.infer<typeof DamageAlert>;

export const WorkerEvent = z.discriminatedUnion('type', [
  z.object({ ...eventBase, ...jobRef, type: z.literal('job.started') }),
  z.object({
    ...eventBase,
    ...jobRef,
    type: z.literal('job.progress'),
    phase: z.string(),
    doneBytes: z.number().nonnegative(),
    totalBytes: z.number().nonnegative(),
  }),
  z.object({ ...eventBase, ...jobRef, type: z.literal('job.succeeded'), outcome: JobResult }),
  z.object({
    ...eventBase,
    ...jobRef,
    type: z.literal('job.failed'),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
  z.object({ ...eventBase, type: z.literal('inventory'), vms: z.array(VmInventory) }),
  /** A storage healed something (repair.eventId === repair.repairId). */
  z.object({ ...eventBase, type: z.literal('repair'), repair: RepairRecord }),
  /** A storage found damage no peer could heal. */
  z.object({ ...eventBase, type: z.literal('alert.raised'), alert: DamageAlert }),
  /** The damage behind an alert is gone. */
  z.object({
    ...eventBase,
    type: z.literal('alert.resolved'),
    alertId: z.string().min(1),
    /** Why: "repaired from b", "chunk re-sent by a backup", "affected backups pruned". */
    reason: z.string(),
  }),
]);
export type WorkerEvent = z.infer<typeof WorkerEvent>;
export type WorkerEventType = WorkerEvent['type'];

/** Core-NATS heartbeat of a worker, every few seconds. */
export const Heartbeat = z.object({
  site: SiteId,
  worker: SiteId,
  kind: z.enum(['agent', 'storage']),
  at: z.iso.datetime(),
  version: z.string(),
  /** gRPC address, for storages. */
  address: z.string().nullable(),
  runningJobs: z.number().int().nonnegative(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** A heartbeat message's body, checked: the heartbeat, or what is wrong with it. */
export function decodeHeartbeat(data: Uint8Array): { readonly heartbeat: Heartbeat } | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { problem: 'not JSON' };
  }
  const parsed = Heartbeat.safeParse(value);
  return parsed.success ? { heartbeat: parsed.data } : { problem: parsed.error.issues[0]?.message ?? 'invalid' };
}
