import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';

/** Random bytes drawn from the OS in blocks: ulid's own source asks WebCrypto once per character. */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/** A uniform fraction in [0, 1) from one cryptographically random byte (ulid maps it to one of 32 characters: 256 is a multiple of 32). */
function pooledRandom(): number {
  if (poolAt >= POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return (pool[poolAt++] ?? 0) / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

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
