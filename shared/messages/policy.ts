/**
 * A protection policy (DESIGN.md §8): when to back up which VMs, where to, how long to keep the
 * copies, how old the newest good copy may get (RPO), how the instant is made consistent, how
 * failures are retried and which jobs go first. Validated with zod wherever a policy enters:
 * the API, the CLI's --file, the catalog's JSON column. Times are milliseconds, clock times of
 * a window are HH:MM in the policy's time zone.
 *
 * The controller's scheduler turns policies into jobs (controller/policies/); the agents never
 * see a policy, only the backup jobs it makes (with its consistency settings), or the snapshot
 * create jobs of a snapshot-management policy (`action: 'snapshot'`).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { ObjectName, SiteId } from '../ids.js';
import { BackupMode, RetentionRules } from './jobs.js';

/** A policy name: lower case, digits and '-' (safe in subjects, file names and URLs). */
export const PolicyName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-", starting with a letter or digit')
  .max(64, 'must be at most 64 characters');

/** A cron expression croner accepts: 5 fields (minute first) or 6 (seconds first). */
export const CronExpression = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .superRefine((text, ctx) => {
    try {
      new Cron(text, { paused: true });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid cron expression (${err instanceof Error ? err.message : String(err)})` });
    }
  });

/** An IANA time zone the runtime knows (`UTC`, `Europe/Paris`). */
export const TimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as UTC or Europe/Paris');

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM (00:00-23:59)');

/**
 * When jobs may start. A job due outside the window waits for the window to open; one not
 * started by the window's end is skipped (recorded as missed). `end` before `start` spans
 * midnight (22:00-06:00).
 */
export const StartWindow = z
  .strictObject({ start: ClockTime, end: ClockTime })
  .refine((w) => w.start !== w.end, { path: ['end'], message: 'must differ from start (an empty window would never open)' });
export type StartWindow = z.infer<typeof StartWindow>;

/** The longest spread of a due time's jobs. */
export const MAX_SPREAD_MS = 12 * 3600_000;

export const PolicySchedule = z.strictObject({
  /** One or more cron expressions; the policy's VMs are due at each. */
  cron: z.array(CronExpression).min(1, 'give at least one cron expression'),
  timezone: TimeZone.default('UTC'),
  window: StartWindow.optional(),
  /**
   * The jobs of one due time start over this many ms instead of all at that instant: each VM at
   * its own fixed offset in [0, spreadMs), the same at every run (so each VM's interval stays the
   * schedule's). Spares hypervisors, storage and the dispatch path a thundering herd. 0: none.
   */
  spreadMs: z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0, 'must be at least 0')
    .max(MAX_SPREAD_MS, 'must be at most 43200000 (12 h)')
    .default(0),
  /** auto: incremental when a parent exists, else full. */
  mode: BackupMode.default('auto'),
});
export type PolicySchedule = z.infer<typeof PolicySchedule>;

/** A tag on a VM (from its agent's inventory). */
export const VmTag = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:=-]*$/, 'must be letters, digits and "_.:=-", starting with a letter or digit')
  .max(64, 'must be at most 64 characters');

/** A VM name pattern: `*` any run of characters, `?` one character, nothing else special. */
export const VmNamePattern = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._*?-]+$/, 'must be letters, digits, ".", "_", "-" and the wildcards "*" and "?"');

/** Which VMs a policy covers: any VM listed, matching a pattern or carrying a tag (new VMs included). */
export const PolicySelector = z
  .strictObject({
    vms: z.array(ObjectName).default([]),
    namePatterns: z.array(VmNamePattern).default([]),
    tags: z.array(VmTag).default([]),
  })
  .default({ vms: [], namePatterns: [], tags: [] });
export type PolicySelector = z.infer<typeof PolicySelector>;

/**
 * How a policy's backups are made consistent. `crash` asks for nothing; `application` asks the
 * VM's agent to quiesce the guest with what the agent's config sets up for that VM (guest agent,
 * hooks); `onFailure` says whether a failed quiesce aborts the backup or continues crash-consistent.
 */
export const PolicyConsistency = z
  .strictObject({
    mode: z.enum(['crash', 'application'], { error: 'must be crash or application' }).default('crash'),
    onFailure: z.enum(['abort', 'continue'], { error: 'must be abort or continue' }).default('abort'),
  })
  .default({ mode: 'crash', onFailure: 'abort' });
export type PolicyConsistency = z.infer<typeof PolicyConsistency>;

/** Retries of a failed job: attempt n waits initialBackoffMs × 2^(n-2), at most maxBackoffMs. */
export const RetryRule = z
  .strictObject({
    maxAttempts: z.number().int().min(1, 'must be at least 1').max(20, 'must be at most 20').default(3),
    initialBackoffMs: z.number().int().min(1000, 'must be at least 1000 (1 s)').default(60_000),
    maxBackoffMs: z.number().int().min(1000, 'must be at least 1000 (1 s)').default(3_600_000),
  })
  .refine((r) => r.maxBackoffMs >= r.initialBackoffMs, { path: ['maxBackoffMs'], message: 'must be at least initialBackoffMs' })
  .default({ maxAttempts: 3, initialBackoffMs: 60_000, maxBackoffMs: 3_600_000 });
export type RetryRule = z.infer<typeof RetryRule>;

export const Policy = z
  .strictObject({
    name: PolicyName,
    description: z.string().max(500, 'must be at most 500 characters').default(''),
    /** A disabled policy makes no jobs; its RPO is still watched. */
    enabled: z.boolean().default(true),
    /**
     * What a due time makes per covered VM: `backup` (default), or `snapshot` (a hypervisor
     * snapshot, `bulwark-<ULID>`, then the VM's own snapshots beyond the `snapshotKeep` newest
     * removed: snapshot management, DESIGN.md §6; no storage, no follow-ups, no RPO watch).
     */
    action: z.enum(['backup', 'snapshot'], { error: 'must be backup or snapshot' }).default('backup'),
    /** action snapshot only (required there): keep the N newest `bulwark-` snapshots of each VM. */
    snapshotKeep: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
    schedule: PolicySchedule,
    /** Applied by a prune of the VM after each of its policy backups, at the storage site and each replica. */
    retention: RetentionRules.optional(),
    /** The newest good copy of each covered VM must be younger than this, at the storage site and each replica. */
    rpoMs: z.number().int().min(60_000, 'must be at least 60000 (1 min)').optional(),
    consistency: PolicyConsistency,
    /** The site whose storage receives the backups; absent: the VM's own site. */
    storageSite: SiteId.optional(),
    /** Sites that must hold a copy too (synced after each backup; RPO watched there). */
    replicaSites: z.array(SiteId).default([]),
    selector: PolicySelector,
    /** Higher first when jobs wait for a free slot (0-100). */
    priority: z.number().int().min(0, 'must be at least 0').max(100, 'must be at most 100').default(50),
    retry: RetryRule,
  })
  .superRefine((p, ctx) => {
    if (p.action === 'snapshot') {
      if (p.snapshotKeep === undefined) ctx.addIssue({ code: 'custom', path: ['snapshotKeep'], message: 'is required with action snapshot (how many bulwark snapshots of each VM to keep)' });
      const backupOnly: [keyof typeof p, boolean][] = [
        ['retention', p.retention !== undefined],
        ['rpoMs', p.rpoMs !== undefined],
        ['storageSite', p.storageSite !== undefined],
        ['replicaSites', p.replicaSites.length > 0],
        ['consistency', p.consistency.mode !== 'crash' || p.consistency.onFailure !== 'abort'],
      ];
      for (const [field, given] of backupOnly) {
        if (given) ctx.addIssue({ code: 'custom', path: [field], message: 'applies to backup policies only: leave it out of a snapshot policy (or use action backup)' });
      }
      if (p.schedule.mode !== 'auto') ctx.addIssue({ code: 'custom', path: ['schedule', 'mode'], message: 'applies to backup policies only: leave it out of a snapshot policy' });
    } else if (p.snapshotKeep !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['snapshotKeep'], message: 'applies to action snapshot only: leave it out of a backup policy (retention keeps backups)' });
    }
    if (p.retention !== undefined && Object.values(p.retention).every((v) => v === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['retention'], message: 'give at least one rule (last, hourly, daily, weekly, monthly, yearly) or leave retention out' });
    }
    if (p.storageSite !== undefined && p.replicaSites.includes(p.storageSite)) {
      ctx.addIssue({ code: 'custom', path: ['replicaSites'], message: `must not include the storage site ${p.storageSite}` });
    }
    if (new Set(p.replicaSites).size !== p.replicaSites.length) {
      ctx.addIssue({ code: 'custom', path: ['replicaSites'], message: 'must not name a site twice' });
    }
  });
/** A policy as stored and sent (defaults filled in). */
export type Policy = z.output<typeof Policy>;
/** A policy as written by an operator (defaults optional). */
export type PolicyInput = z.input<typeof Policy>;
