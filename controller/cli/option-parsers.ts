/**
 * Parsers for command-line values, from zod schemas: a bad value makes commander print
 * `error: option '--mode <mode>' argument 'x' is invalid. must be one of ...` (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ObjectName, SiteId, WorkerId } from '../../shared/ids.js';
import { CronExpression, PolicyName, StartWindow, TimeZone, VmNamePattern, VmTag } from '../../shared/messages/policy.js';
import { JobStates } from '../catalog/catalog.js';

/** A commander argParser that validates with `schema`. */
export function zodParser<S extends z.ZodType>(schema: S): (value: string) => z.output<S> {
  return (value: string) => {
    const result = schema.safeParse(value);
    if (!result.success) throw new InvalidArgumentError(result.error.issues[0]?.message ?? 'invalid');
    return result.data;
  };
}

export const parseVmName = zodParser(ObjectName);
export const parseSite = zodParser(SiteId);
export const parseWorker = zodParser(WorkerId);
export const parseMode = zodParser(z.enum(['auto', 'full', 'incremental'], { error: 'must be one of auto, full, incremental' }));
export const parseJobState = zodParser(
  z.enum(JobStates, { error: `must be one of ${JobStates.join(', ')}` }),
);
export const parseLimit = zodParser(
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(10_000, 'must be at most 10000')),
);
export const parseId = zodParser(
  z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"'),
);
/** A directory: relative paths are taken from the current directory and sent absolute. */
export const parseDir = zodParser(
  z
    .string()
    .min(1, 'must not be empty')
    .transform((p) => resolve(p)),
);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const MAX_DURATION_MS = 100 * 365 * 86_400_000;
const DURATION_HINT = 'must be a duration like 30s, 15m, 1h or 7d (units: ms, s, m, h, d, w)';

/** "30s" → 30000; undefined when `text` is not a duration. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d{1,12})(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const [, count, unit] = match;
  return Number(count) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
}

/** A duration (`30s`, `15m`, `1h`, `7d`, `2w`, `0s`) as milliseconds. */
export const parseDuration = zodParser(
  z
    .string()
    .transform((text, ctx) => {
      const ms = durationMs(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: DURATION_HINT });
        return z.NEVER;
      }
      return ms;
    })
    .pipe(z.number().max(MAX_DURATION_MS, 'must be at most 100 years')),
);

/** How many backups a retention rule keeps: a whole number from 1. */
export const parseKeepCount = zodParser(
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000')),
);

/**
 * `--until`: a date (`2027-01-01`, midnight UTC), an ISO time with a zone
 * (`2027-01-01T12:00:00Z`) or a duration from now (`30d`); sent as ISO-8601 UTC, in the future.
 */
export function parseUntil(text: string, nowMs = Date.now()): string {
  const hint = 'must be a date (2027-01-01, UTC), an ISO time with a zone (2027-01-01T12:00:00Z) or a duration from now (30d)';
  const ms = parseTimeArg(text, nowMs, 1, hint, 'must be at most 100 years from now');
  if (ms <= nowMs) throw new InvalidArgumentError('must be in the future');
  return new Date(ms).toISOString();
}

/**
 * `--since`: a duration back from now (`24h`, `7d`), a date (`2027-01-01`, midnight UTC) or an
 * ISO time with a zone; sent as ISO-8601 UTC.
 */
export function parseSince(text: string, nowMs = Date.now()): string {
  const hint = 'must be a duration back from now (24h, 7d), a date (2027-01-01, UTC) or an ISO time with a zone (2027-01-01T12:00:00Z)';
  return new Date(parseTimeArg(text, nowMs, -1, hint, 'must be at most 100 years back')).toISOString();
}

/** A time given as a duration from now (`direction` 1: ahead, -1: back), a date (midnight UTC) or an ISO time with a zone, in ms. */
function parseTimeArg(text: string, nowMs: number, direction: 1 | -1, hint: string, tooFar: string): number {
  const trimmed = text.trim();
  let ms: number;
  const duration = durationMs(trimmed);
  if (duration !== undefined) {
    if (duration > MAX_DURATION_MS) throw new InvalidArgumentError(tooFar);
    ms = nowMs + direction * duration;
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    ms = Date.parse(`${trimmed}T00:00:00Z`);
  } else if (z.iso.datetime({ offset: true }).safeParse(trimmed).success) {
    ms = Date.parse(trimmed);
  } else {
    throw new InvalidArgumentError(hint);
  }
  if (Number.isNaN(ms)) throw new InvalidArgumentError(hint);
  return ms;
}

const BYTE_UNITS = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 } as const;

/** A rate in bytes per second: `1048576`, `512KiB`, `10MiB`, `1GiB` (binary units; `/s` optional); at least 1 KiB. */
export const parseByteRate = zodParser(
  z
    .string()
    .transform((text, ctx) => {
      const match = /^(\d{1,15}(?:\.\d+)?)\s*([a-z]*)(?:\/s)?$/i.exec(text.trim());
      const unit = match?.[2]?.toLowerCase() ?? '';
      if (!match || !(unit in BYTE_UNITS)) {
        ctx.addIssue({ code: 'custom', message: 'must be bytes per second like 1048576, 512KiB, 10MiB or 1GiB' });
        return z.NEVER;
      }
      return Math.floor(Number(match[1]) * BYTE_UNITS[unit as keyof typeof BYTE_UNITS]);
    })
    .pipe(z.number().min(1024, 'must be at least 1024 bytes (1 KiB) per second')),
);

/** Chunk transfers in flight during a sync: 1 to 32. */
export const parseConcurrency = zodParser(
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(32, 'must be at most 32')),
);

export const parseSyncMode = zodParser(z.enum(['pull', 'push'], { error: 'must be pull or push' }));

// --- policies ---
export const parsePolicyName = zodParser(PolicyName);
export const parseCron = zodParser(CronExpression);
export const parseTimeZone = zodParser(TimeZone);
export const parseVmTag = zodParser(VmTag);
export const parseNamePattern = zodParser(VmNamePattern);
export const parseConsistencyMode = zodParser(z.enum(['crash', 'application'], { error: 'must be crash or application' }));
export const parseQuiesceFailure = zodParser(z.enum(['abort', 'continue'], { error: 'must be abort or continue' }));

/** A start window `22:00-06:00` (HH:MM-HH:MM in the policy's time zone; end before start spans midnight). */
export const parseWindow = zodParser(
  z
    .string()
    .transform((text, ctx) => {
      const match = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(text);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: 'must be a window HH:MM-HH:MM such as 22:00-06:00' });
        return z.NEVER;
      }
      return { start: match[1] ?? '', end: match[2] ?? '' };
    })
    .pipe(StartWindow),
);

/** A whole number from `min` to `max`. */
export function wholeNumberParser(min: number, max: number): (value: string) => number {
  return zodParser(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`)),
  );
}
