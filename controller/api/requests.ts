/**
 * zod schemas for the Controller API's requests, after proto decoding. proto3 cannot tell an
 * empty string from an absent one, so empty strings mean "not given". Errors name the proto
 * field (`target_dir`), as the caller wrote it.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { ObjectName, SiteId, WorkerId } from '../../shared/ids.js';
import { JobStates } from '../catalog/catalog.js';

const optional = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const BackupId = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"');

export const StartBackupInput = z.object({
  vm: ObjectName,
  mode: z.preprocess(
    (v) => (v === '' ? 'auto' : v),
    z.enum(['auto', 'full', 'incremental'], { error: 'must be one of auto, full, incremental' }),
  ),
});

export const StartRestoreInput = z.object({
  backupId: BackupId,
  targetDir: z
    .string()
    .min(1, 'must not be empty')
    .refine((p) => isAbsolute(p), 'must be an absolute path')
    .transform((p) => normalize(p)),
  site: optional(SiteId),
  worker: optional(WorkerId),
});

export const StartSyncInput = z.object({
  fromSite: optional(SiteId),
  toSite: optional(SiteId),
});

export const StartVerifyInput = z.object({
  site: optional(SiteId),
  repair: z.boolean(),
});

export const ListJobsInput = z.object({
  limit: z.preprocess(
    (v) => (v === 0 ? 50 : v),
    z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  ),
  state: optional(z.enum(JobStates, { error: `must be one of ${JobStates.join(', ')}` })),
});

export const ListBackupsInput = z.object({
  vm: optional(ObjectName),
  site: optional(SiteId),
});

export const JobIdInput = z.object({
  id: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Validates a decoded request; a failure is a ValidationError naming the proto field. */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? issue.path.map((p) => snakeCase(String(p))).join('.') : '';
  throw new ValidationError(field, issue?.message ?? 'invalid');
}
