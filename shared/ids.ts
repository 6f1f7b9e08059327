import { monotonicFactory } from 'ulid';
import { z } from 'zod';

const nextUlid = monotonicFactory();

/** A new time-ordered unique id (ULID), optionally at a given time. */
export function newId(atMs?: number): string {
  return nextUlid(atMs);
}

/** Site and worker ids: lower-case letters, digits and dashes (JetStream durables forbid '.'). */
export const NamePattern = /^[a-z0-9-]+$/;

/** A site or worker id. */
export const SiteId = z.string().regex(NamePattern, 'must match ^[a-z0-9-]+$').max(64);

/** A worker id; `shared` is reserved for the per-site queue. */
export const WorkerId = SiteId.refine((s) => s !== 'shared', 'the worker id "shared" is reserved');

/** A VM or disk name: safe as one path component. */
export const ObjectName = z
  .string()
  .min(1, 'must not be empty')
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-", starting with a letter or digit');

/** A ULID as assigned by newId(). */
export const Ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a 26-character ULID');
