/**
 * Parsers for command-line values, from zod schemas: a bad value makes commander print
 * `error: option '--mode <mode>' argument 'x' is invalid. must be one of ...` (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ObjectName, SiteId, WorkerId } from '../../shared/ids.js';

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
  z.enum(['queued', 'running', 'succeeded', 'failed'], { error: 'must be one of queued, running, succeeded, failed' }),
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
