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
  site: z.string(),
  targetDir: z.string(),
  disks: z.array(z.object({ name: z.string(), path: z.string(), sizeBytes: z.number().int().nonnegative() })),
  bytesWritten: z.number().int().nonnegative(),
  chunksFetched: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type RestoreResult = z.infer<typeof RestoreResult>;

export const SyncResult = z.object({
  sourceSite: z.string(),
  site: z.string(),
  /** Backups now present at the replica that were not before. */
  copied: z.array(BackupRecord),
  backupsAlreadyPresent: z.number().int().nonnegative(),
  chunksCopied: z.number().int().nonnegative(),
  bytesCopied: z.number().int().nonnegative(),
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
  damagedFiles: z.array(z.object({ backupId: z.string(), file: z.string(), problem: z.string() })),
  chunks: z.array(ChunkFinding),
  repaired: z.number().int().nonnegative(),
  unrepaired: z.number().int().nonnegative(),
  verifiedBackupIds: z.array(z.string()),
  durationMs: z.number().nonnegative(),
});
export type VerifyResult = z.infer<typeof VerifyResult>;
