/**
 * Manifest: what a backup is. Canonical JSON carrying a SHA-256 of itself, written last, after
 * every chunk and index it names is durable. Self-describing, so a catalog can be rebuilt from
 * a datastore alone. Times are assigned by the storage that commits it, never by the client.
 */
import { z } from 'zod';
import { CorruptDataError } from '../errors.js';
import { ObjectName, Ulid } from '../ids.js';
import { canonicalJson } from './canonical-json.js';
import { checksumOf, parseJsonObject } from './checked-json.js';

export const MANIFEST_FORMAT = 'bulwark-manifest';
export const MANIFEST_VERSION = 1;

/** One disk of a backup. */
export const ManifestDisk = z.object({
  name: ObjectName,
  sizeBytes: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  zeroChunks: z.number().int().nonnegative(),
  /** SHA-256 hex of the disk's whole .fidx file. */
  indexSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ManifestDisk = z.infer<typeof ManifestDisk>;

/** A VM's definition as its hypervisor describes it; the disks are the backup's own. */
export const VmDefinition = z.object({ hypervisor: z.string().min(1).max(32), definition: z.record(z.string(), z.unknown()) });
export type VmDefinition = z.infer<typeof VmDefinition>;

/** The manifest without its checksum. */
export const ManifestBody = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  backupId: Ulid,
  vm: ObjectName,
  datastoreId: z.string().min(1),
  createdAt: z.iso.datetime(),
  jobId: z.string(),
  attempt: z.number().int().nonnegative(),
  mode: z.enum(['full', 'incremental']),
  parentBackupId: Ulid.nullable(),
  /** How changed data was found: 'hash' (read and hash everything allocated) or 'dirty-bitmap' (only what the hypervisor saw written). */
  changeTracking: z.string().min(1),
  /** Why a cheaper method was not used, when it was not (e.g. the bitmap was lost). */
  changeTrackingNote: z.string().nullable(),
  /** The hypervisor checkpoint this backup started (the base of the next dirty-bitmap incremental); absent or null: none. */
  checkpoint: z.string().min(1).max(64).nullable().optional(),
  /** What the backup's instant is consistent with, and how it was obtained or why it fell back; absent: crash. */
  consistency: z.object({ level: z.enum(['crash', 'application']), note: z.string().max(1024).nullable() }).optional(),
  /** The VM's definition as its hypervisor described it at backup time (qemu: cpus, memoryMiB, machine, nics), for a restore to rebuild the VM. */
  vmDefinition: VmDefinition.optional(),
  chunkSizeBytes: z.number().int().positive(),
  /** Fingerprint of the key the chunks are encrypted with; absent or null: unencrypted. */
  keyFingerprint: z.string().regex(/^[0-9a-f]{32}$/).nullable().optional(),
  /** The writer's HMAC over the content (shared/crypto/content-hmac.ts); checked by key holders. */
  contentHmac: z.string().regex(/^[0-9a-f]{64}$/).nullable().optional(),
  disks: z.array(ManifestDisk).min(1),
  stats: z.record(z.string(), z.union([z.number(), z.string()])),
});
export type ManifestBody = z.infer<typeof ManifestBody>;

/** A checked manifest. */
export type Manifest = ManifestBody & { readonly checksum: string };

/** The manifest file for a body: canonical JSON with its checksum. */
export function encodeManifest(body: ManifestBody): Buffer {
  const parsed = ManifestBody.parse(body);
  return Buffer.from(canonicalJson({ ...parsed, checksum: checksumOf(parsed) }), 'utf8');
}

/** Checks and decodes a manifest file; any damage is a CorruptDataError naming `what`. */
export function decodeManifest(file: Uint8Array, what = 'manifest'): Manifest {
  const { checksum, ...rest } = parseJsonObject(file, what);
  const body = ManifestBody.safeParse(rest);
  if (!body.success) {
    const issue = body.error.issues[0];
    throw new CorruptDataError(what, `invalid field ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  if (typeof checksum !== 'string' || checksum !== checksumOf(body.data)) {
    throw new CorruptDataError(what, 'checksum mismatch');
  }
  return { ...body.data, checksum };
}
