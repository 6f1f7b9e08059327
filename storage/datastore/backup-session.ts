/**
 * An open upload: what BeginBackup was told, and which disks have their index uploaded.
 * Kept as sessions/<sessionId>/session.json (self-checking), one <disk>.fidx per indexed disk,
 * and chunks.log (the digests written or reported present through it), so open sessions survive
 * a restart and garbage collection keeps what they use.
 */
import { VmDefinition } from '../../shared/format/manifest.js';
import { z } from 'zod';
import { ObjectName, Ulid } from '../../shared/ids.js';
import { decodeCheckedJson, encodeCheckedJson } from '../../shared/format/checked-json.js';
import type { ChunkHold } from './chunk-hold.js';

const SESSION_FORMAT = 'bulwark-session';
const SESSION_VERSION = 1;

export const SessionSpec = z.strictObject({
  vm: ObjectName,
  disks: z.array(z.strictObject({ name: ObjectName, sizeBytes: z.number().int().nonnegative() })).min(1),
  jobId: z.string(),
  attempt: z.number().int().nonnegative(),
  parentBackupId: Ulid.nullable(),
  mode: z.enum(['full', 'incremental']),
  changeTracking: z.string().min(1),
  changeTrackingNote: z.string().nullable(),
  checkpoint: z.string().min(1).max(64).nullable().optional(),
  consistency: z.strictObject({ level: z.enum(['crash', 'application']), note: z.string().max(1024).nullable() }).optional(),
  vmDefinition: VmDefinition.optional(),
});
export type SessionSpec = z.infer<typeof SessionSpec>;

const SessionFileBody = SessionSpec.extend({
  sessionId: Ulid,
  createdAt: z.iso.datetime(),
  chunkSizeBytes: z.number().int().positive(),
});
export type SessionFileBody = z.infer<typeof SessionFileBody>;

/** A disk whose index is uploaded. */
export interface IndexedDisk {
  readonly chunkCount: number;
  readonly zeroChunks: number;
  readonly sha256: string;
}

/** An open session in memory. */
export interface BackupSession extends SessionFileBody {
  readonly indexed: Map<string, IndexedDisk>;
  /** Digests garbage collection must keep while the session is open (chunks.log on disk). */
  readonly hold: ChunkHold;
}

export function encodeSessionFile(body: SessionFileBody): Buffer {
  return encodeCheckedJson(SESSION_FORMAT, SESSION_VERSION, SessionFileBody.parse(body));
}

export function decodeSessionFile(file: Uint8Array, what: string): SessionFileBody {
  return decodeCheckedJson(file, SESSION_FORMAT, SESSION_VERSION, SessionFileBody, what);
}
