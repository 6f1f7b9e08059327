/**
 * Events: everything a worker reports, on `bulwark.events.<site>.<worker>.<kind>`. Event ids are
 * unique (ULIDs) and double as JetStream msgIDs, so a retried publish is stored once and the
 * controller applies each event at most once, in whatever order they arrive.
 */
import { z } from 'zod';
import { ObjectName, SiteId } from '../ids.js';
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
