/**
 * Job results, carried by `job.succeeded` events and shown by the CLI. One schema per kind.
 */
import { z } from 'zod';

/** A committed backup as the catalog records it. */
export const BackupRecord = z.object({
  backupId: z.string().min(1),
  vm: z.string().min(1),
  site: z.string().min(1),
  createdAt: z.string(),
  mode: z.enum(['full', 'incremental']),
  parentBackupId: z.string().nullable(),
  jobId: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  disks: z.array(z.object({ name: z.string(), sizeBytes: z.number().int().nonnegative() })),
});
export type BackupRecord = z.infer<typeof BackupRecord>;

export const BackupResult = z.object({
  backup: BackupRecord,
  /** True when this attempt had already committed (a redelivery): no second backup was made. */
  alreadyCommitted: z.boolean(),
  bytesRead: z.number().int().nonnegative(),
  chunksTotal: z.number().int().nonnegative(),
  chunksZero: z.number().int().nonnegative(),
  chunksSent: z.number().int().nonnegative(),
  bytesSent: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type BackupResult = z.infer<typeof BackupResult>;

export const RestoreResult = z.object({
  backupId: z.string(),
  /** True for a deep verify with the key: everything read and checked, nothing written. */
  verifyOnly: z.boolean().default(false),
  site: z.string(),
  targetDir: z.string(),
  disks: z.array(z.object({ name: z.string(), path: z.string(), sizeBytes: z.number().int().nonnegative() })),
  bytesWritten: z.number().int().nonnegative(),
  chunksFetched: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** With `start`: the VM started on the restored disks (a QEMU process on the agent's host). */
  started: z.object({ pid: z.number().int().positive(), qmpSocket: z.string(), consoleLog: z.string(), command: z.array(z.string()) }).nullable().default(null),
});
export type RestoreResult = z.infer<typeof RestoreResult>;

export const SyncResult = z.object({
  sourceSite: z.string(),
  site: z.string(),
  /** Backups now present at the replica that were not before. */
  copied: z.array(BackupRecord),
  backupsAlreadyPresent: z.number().int().nonnegative(),
  /** Backups the replica removed under its own retention: never copied again. */
  backupsPrunedAtReplica: z.number().int().nonnegative().default(0),
  /** Backups that could not be copied this time (e.g. a chunk no site has intact), and why. */
  failed: z.array(z.object({ backupId: z.string(), vm: z.string(), error: z.string() })).default([]),
  chunksCopied: z.number().int().nonnegative(),
  bytesCopied: z.number().int().nonnegative(),
  /** Times the link failed mid-sync and the transfer resumed. */
  resumes: z.number().int().nonnegative().default(0),
  mode: z.enum(['pull', 'push']).default('pull'),
  durationMs: z.number().nonnegative(),
});
export type SyncResult = z.infer<typeof SyncResult>;

/** A chunk found damaged or missing, and what became of it. */
export const ChunkFinding = z.object({
  digest: z.string(),
  problem: z.string(),
  backups: z.array(z.object({ backupId: z.string(), vm: z.string(), disk: z.string(), offsetBytes: z.number() })),
  /** 'repaired' with the peer that supplied it, or 'unrepaired'. */
  outcome: z.enum(['repaired', 'unrepaired']),
  peer: z.string().nullable(),
  bytes: z.number().int().nonnegative(),
});
export type ChunkFinding = z.infer<typeof ChunkFinding>;

export const VerifyResult = z.object({
  site: z.string(),
  backupsChecked: z.number().int().nonnegative(),
  chunksChecked: z.number().int().nonnegative(),
  bytesChecked: z.number().int().nonnegative(),
  /** Manifests or indexes that failed their own checks. */
  damagedFiles: z.array(
    z.object({
      backupId: z.string(),
      file: z.string(),
      problem: z.string(),
      /** 'repaired' with the peer that supplied a good copy, or 'unrepaired'. */
      outcome: z.enum(['repaired', 'unrepaired']).default('unrepaired'),
      peer: z.string().nullable().default(null),
    }),
  ),
  chunks: z.array(ChunkFinding),
  repaired: z.number().int().nonnegative(),
  unrepaired: z.number().int().nonnegative(),
  verifiedBackupIds: z.array(z.string()),
  /** When the verified backups were verified (recorded per backup as verifiedAt). */
  verifiedAt: z.string().nullable().default(null),
  /** Backups left out because they were verified within the requested age. */
  skippedBackupIds: z.array(z.string()).default([]),
  durationMs: z.number().nonnegative(),
});
export type VerifyResult = z.infer<typeof VerifyResult>;

/** A backup prune looked at, and why it stays or goes. */
export const PruneDecision = z.object({
  backupId: z.string(),
  vm: z.string(),
  createdAt: z.string(),
  /** Rules that keep it (e.g. "daily 2026-11-21", "last 3", "locked until …"); empty: it goes. */
  keptBy: z.array(z.string()),
});
export type PruneDecision = z.infer<typeof PruneDecision>;

export const PruneResult = z.object({
  site: z.string(),
  dryRun: z.boolean(),
  kept: z.array(PruneDecision),
  /** Removed (or, on a dry run, that would be removed). */
  removed: z.array(PruneDecision),
  durationMs: z.number().nonnegative(),
});
export type PruneResult = z.infer<typeof PruneResult>;

export const GcResult = z.object({
  site: z.string(),
  dryRun: z.boolean(),
  chunksScanned: z.number().int().nonnegative(),
  chunksReferenced: z.number().int().nonnegative(),
  /** Unreferenced but younger than the grace period: kept this time. */
  chunksInGrace: z.number().int().nonnegative(),
  chunksRemoved: z.number().int().nonnegative(),
  bytesReclaimed: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type GcResult = z.infer<typeof GcResult>;

export const LockResult = z.object({
  site: z.string(),
  backupId: z.string(),
  lockedUntil: z.string(),
});
export type LockResult = z.infer<typeof LockResult>;

/** One disk's copy of a snapshot (qcow2 internal snapshot: QEMU's id, time and saved VM state size). */
export const SnapshotDisk = z.object({
  disk: z.string(),
  /** QEMU's id of the snapshot in this image (per image, not per VM). */
  id: z.string(),
  createdAt: z.string(),
  vmStateSizeBytes: z.number().int().nonnegative(),
});
export type SnapshotDisk = z.infer<typeof SnapshotDisk>;

/** A snapshot of a VM: present, under one name, on every disk of the VM. */
export const VmSnapshot = z.object({
  name: z.string(),
  /** The earliest creation time among its disks. */
  createdAt: z.string(),
  /** Named `bulwark-<ULID>` by Bulwark (subject to keep-N); otherwise named by a user. */
  madeByBulwark: z.boolean(),
  disks: z.array(SnapshotDisk),
});
export type VmSnapshot = z.infer<typeof VmSnapshot>;

/** A name some disks of the VM hold and others do not (an interrupted remove, or made outside Bulwark). */
export const IncompleteSnapshot = z.object({
  name: z.string(),
  presentOn: z.array(z.string()),
  missingOn: z.array(z.string()),
});
export type IncompleteSnapshot = z.infer<typeof IncompleteSnapshot>;

export const SnapshotResult = z.object({
  vm: z.string(),
  op: z.enum(['create', 'list', 'remove', 'revert']),
  /** The snapshot this job made (or, on a redelivery, found made by it), or null. */
  created: z.string().nullable(),
  /** Snapshots this job deleted: the one asked for, or those keep-N pruned. */
  removed: z.array(z.string()),
  /** The snapshot the disks were set back to, or null. */
  reverted: z.string().nullable(),
  /** Whether QEMU had the VM running (QMP answered); false: the images were read with qemu-img. */
  vmRunning: z.boolean(),
  /** The VM's snapshots after the operation, oldest first. */
  snapshots: z.array(VmSnapshot),
  incomplete: z.array(IncompleteSnapshot),
  /** Something the operator should know (e.g. a revert dropped the change-tracking bitmaps), or null. */
  note: z.string().nullable(),
  durationMs: z.number().nonnegative(),
});
export type SnapshotResult = z.infer<typeof SnapshotResult>;
