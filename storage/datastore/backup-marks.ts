/**
 * Small self-checking files kept beside a backup's manifest (which itself never changes):
 * - verified.json: when a verify last found the backup sound;
 * - lock.json: the backup and every chunk it references cannot be deleted before `lockedUntil`.
 * Both are written atomically (tmp, fsync, rename, directory fsync).
 */
import { z } from 'zod';
import { Ulid } from '../../shared/ids.js';
import { decodeCheckedJson, encodeCheckedJson } from '../../shared/format/checked-json.js';

export const VERIFIED_FILE = 'verified.json';
export const LOCK_FILE = 'lock.json';

const VerifiedFileBody = z.strictObject({ backupId: Ulid, verifiedAt: z.iso.datetime() });
export type VerifiedFileBody = z.infer<typeof VerifiedFileBody>;

const LockFileBody = z.strictObject({
  backupId: Ulid,
  lockedUntil: z.iso.datetime(),
  /** When the backup was first locked. */
  lockedAt: z.iso.datetime(),
  /** When the lock was last set or extended. */
  updatedAt: z.iso.datetime(),
});
export type LockFileBody = z.infer<typeof LockFileBody>;

export function encodeVerifiedFile(body: VerifiedFileBody): Buffer {
  return encodeCheckedJson('bulwark-verified', 1, VerifiedFileBody.parse(body));
}

export function decodeVerifiedFile(file: Uint8Array, what: string): VerifiedFileBody {
  return decodeCheckedJson(file, 'bulwark-verified', 1, VerifiedFileBody, what);
}

export function encodeLockFile(body: LockFileBody): Buffer {
  return encodeCheckedJson('bulwark-lock', 1, LockFileBody.parse(body));
}

export function decodeLockFile(file: Uint8Array, what: string): LockFileBody {
  return decodeCheckedJson(file, 'bulwark-lock', 1, LockFileBody, what);
}

/** What storage knows about a committed backup beyond its manifest. */
export interface BackupMarks {
  verifiedAt: string | null;
  /**
   * The lock: its end, or 'damaged' when lock.json exists but fails its checks (then the backup
   * is treated as locked for good: an unreadable lock is never taken as no lock).
   */
  lock: { readonly until: string; readonly untilMs: number } | 'damaged' | null;
}
