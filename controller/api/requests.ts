/**
 * zod schemas for the Controller API's requests, after proto decoding. proto3 cannot tell an
 * empty string from an absent one, so empty strings mean "not given". Errors name the proto
 * field (`target_dir`), as the caller wrote it.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../shared/errors.js';
import { ObjectName, SiteId, WorkerId } from '../../shared/ids.js';
import { SnapshotJobParams, SnapshotName, SnapshotOp, type RetentionRules } from '../../shared/messages/jobs.js';
import { PolicyName, VmNamePattern, VmTag } from '../../shared/messages/policy.js';
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

/** Milliseconds in a request: at most about 100 years. */
const DurationMs = z
  .number()
  .int('must be a whole number of milliseconds')
  .nonnegative('must not be negative')
  .max(100 * 365 * 24 * 3600_000, 'must be at most 100 years');

export const StartRestoreInput = z
  .object({
    backupId: BackupId,
    targetDir: optional(
      z
        .string()
        .refine((p) => isAbsolute(p), 'must be an absolute path')
        .transform((p) => normalize(p)),
    ),
    site: optional(SiteId),
    worker: optional(WorkerId),
    verifyOnly: z.boolean().default(false),
    format: z
      .enum(['', 'raw', 'qcow2'], 'must be raw or qcow2')
      .transform((f) => (f === '' ? 'raw' : f))
      .default('raw'),
    start: z.boolean().default(false),
  })
  .superRefine((req, ctx) => {
    if (req.verifyOnly && req.start) ctx.addIssue({ code: 'custom', path: ['start'], message: 'cannot start a VM from a verify-only restore' });
    if (!req.verifyOnly && req.targetDir === undefined) {
      ctx.addIssue({ code: 'custom', path: ['targetDir'], message: 'must not be empty (unless verify_only)' });
    }
  });

export const StartSyncInput = z.object({
  fromSite: optional(SiteId),
  toSite: optional(SiteId),
  mode: optional(z.enum(['pull', 'push'], { error: 'must be pull or push' })),
  /** proto3 `optional`: absent when not given (the pair's configured value applies). */
  rateBytesPerSecond: z.number().int('must be a whole number').min(1024, 'must be at least 1024 bytes per second').optional(),
  concurrency: z.number().int('must be a whole number').min(1, 'must be at least 1').max(32, 'must be at most 32').optional(),
});

export const StartVerifyInput = z
  .object({
    site: optional(SiteId),
    repair: z.boolean(),
    backupId: optional(BackupId),
    vm: optional(ObjectName),
    force: z.boolean().default(false),
    /** proto3 `optional`: absent when not given (the controller's default applies), 0 skips none. */
    skipVerifiedWithinMs: DurationMs.optional(),
  })
  .superRefine((req, ctx) => {
    if (req.backupId !== undefined && req.vm !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['vm'], message: 'give backup_id or vm, not both' });
    }
  });

const KeepCount = z
  .number()
  .int('must be a whole number')
  .nonnegative('must not be negative')
  .max(1_000_000, 'must be at most 1000000')
  .default(0);

/** proto3 has no absent integers: 0 means the rule is not used. */
export const StartPruneInput = z
  .object({
    site: optional(SiteId),
    vm: optional(ObjectName),
    keepLast: KeepCount,
    keepHourly: KeepCount,
    keepDaily: KeepCount,
    keepWeekly: KeepCount,
    keepMonthly: KeepCount,
    keepYearly: KeepCount,
    dryRun: z.boolean().default(false),
  })
  .transform((req) => {
    const keep: RetentionRules = {
      ...(req.keepLast > 0 ? { last: req.keepLast } : {}),
      ...(req.keepHourly > 0 ? { hourly: req.keepHourly } : {}),
      ...(req.keepDaily > 0 ? { daily: req.keepDaily } : {}),
      ...(req.keepWeekly > 0 ? { weekly: req.keepWeekly } : {}),
      ...(req.keepMonthly > 0 ? { monthly: req.keepMonthly } : {}),
      ...(req.keepYearly > 0 ? { yearly: req.keepYearly } : {}),
    };
    return { site: req.site, vm: req.vm, keep, dryRun: req.dryRun };
  });

export const StartGcInput = z.object({
  site: optional(SiteId),
  graceMs: DurationMs.optional(),
  dryRun: z.boolean().default(false),
});

export const LockBackupInput = z.object({
  backupId: BackupId,
  until: z
    .string()
    .min(1, 'must not be empty')
    .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time with a zone, e.g. 2027-01-01T00:00:00Z' }))
    .transform((t) => new Date(t).toISOString()),
  site: optional(SiteId),
});

/** proto3 has no absent strings or integers: an empty name and keep 0 mean "not given". */
export const StartSnapshotInput = z
  .object({
    vm: ObjectName,
    op: SnapshotOp,
    name: optional(SnapshotName),
    keep: z.preprocess((v) => (v === 0 ? undefined : v), z.number().optional()),
  })
  .pipe(SnapshotJobParams);

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

/** An ISO-8601 time with a zone, sent on as the catalog's format (UTC with milliseconds). */
const IsoTime = z
  .string()
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time with a zone, e.g. 2027-01-01T00:00:00Z' }))
  .transform((t) => new Date(t).toISOString());

/** A limit where proto3's 0 means "not given". */
const limitOr = (fallback: number) =>
  z.preprocess(
    (v) => (v === 0 || v === undefined ? fallback : v),
    z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
  );

export const ListRepairsInput = z.object({
  site: optional(SiteId),
  vm: optional(ObjectName),
  since: optional(IsoTime),
  limit: limitOr(100),
});

export const ListAlertsInput = z.object({
  all: z.boolean().default(false),
  limit: limitOr(1000),
});

/** A storage's gRPC address as given to ImportCatalog. */
const StorageAddress = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port');

export const ImportCatalogInput = z
  .object({
    storageAddress: optional(StorageAddress),
    site: optional(SiteId),
  })
  .refine((r) => r.storageAddress !== undefined || r.site !== undefined, {
    path: ['storageAddress'],
    message: 'give a storage address or a site (or both)',
  });

export const GetStatusInput = z.object({
  /** proto3 `optional`: absent means 24 hours. */
  failedWithinMs: DurationMs.default(24 * 3600_000),
});

export const JobIdInput = z.object({
  id: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});

// --- RPO watch ---
export const ListRpoInput = z.object({
  vm: optional(ObjectName),
  site: optional(SiteId),
  breachedOnly: z.boolean().default(false),
});

// --- policies ---
export const PolicyNameInput = z.object({ name: PolicyName });

export const CreatePolicyInput = z.object({ policyJson: z.string().min(1, 'must not be empty (give the policy as JSON)') });

export const UpdatePolicyInput = z.object({
  policyJson: z.string().min(1, 'must not be empty (give the policy as JSON)'),
  ifUpdatedAt: optional(z.string()),
});

export const AssignPolicyInput = z
  .object({
    name: PolicyName,
    vms: z.array(ObjectName).default([]),
    namePatterns: z.array(VmNamePattern).default([]),
    tags: z.array(VmTag).default([]),
    remove: z.boolean().default(false),
  })
  .refine((r) => r.vms.length + r.namePatterns.length + r.tags.length > 0, {
    path: ['vms'],
    message: 'give at least one VM, name pattern or tag',
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
