/**
 * The messages between WorkerChunkProcessor and its threads (chunk-processor-worker.ts). Chunk
 * bytes never travel in messages: they sit in slots of SharedArrayBuffer arenas the threads are
 * sent once, and a task names its slot and length. A task's result is written back into its slot
 * (a blob over its plaintext, a plaintext over its blob), so no chunk allocates memory that
 * crosses threads (each crossing would count against V8's external-memory budget and force full
 * collections).
 */
import { BlobKeyError } from '../../shared/format/blob.js';
import { AppError, CorruptDataError, type ErrorCode } from '../../shared/errors.js';

/** What a thread is started with: the datastore key material (96 bytes) or null, and the slot size. */
export interface ChunkWorkerData {
  readonly keyMaterial: Uint8Array | null;
  readonly slotBytes: number;
}

/** A chunk's place: slot `slot` of arena `arena`, its first `length` bytes. */
export interface SlotRef {
  readonly arena: number;
  readonly slot: number;
  readonly length: number;
}

export type ChunkTask =
  | { readonly op: 'arena'; readonly arena: number; readonly memory: SharedArrayBuffer }
  | ({ readonly id: number; readonly op: 'describe' } & SlotRef)
  | ({ readonly id: number; readonly op: 'encode'; readonly digest: Uint8Array } & SlotRef)
  | ({ readonly id: number; readonly op: 'decode'; readonly digest: Uint8Array } & SlotRef);

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly details?: Record<string, unknown>;
}

export type ChunkTaskResult =
  | { readonly id: number; readonly ok: true; readonly op: 'describe'; readonly zero: boolean; readonly digest: Uint8Array | null }
  | { readonly id: number; readonly ok: true; readonly op: 'encode'; readonly length: number }
  | { readonly id: number; readonly ok: true; readonly op: 'decode'; readonly length: number }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof AppError) return { name: err.name, message: err.message, code: err.code, details: { ...err.details } };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The error again, as its own class where a caller may act on it. */
export function reviveError(e: SerializedError): Error {
  const details = e.details ?? {};
  const what = typeof details.what === 'string' ? details.what : 'chunk';
  if (e.name === 'BlobKeyError') return new BlobKeyError(what);
  if (e.name === 'CorruptDataError') {
    const { what: _what, problem, ...rest } = details;
    return new CorruptDataError(what, typeof problem === 'string' ? problem : e.message, rest);
  }
  if (e.name === 'RangeError') return new RangeError(e.message);
  if (e.code) return new AppError(e.code as ErrorCode, e.message, { details });
  return new Error(e.message);
}
