/**
 * The messages between WorkerChunkProcessor and its threads (chunk-processor-worker.ts). Chunk
 * bytes travel as whole ArrayBuffers in the transfer list: moved, not copied.
 */
import { BlobKeyError } from '../../shared/format/blob.js';
import { AppError, CorruptDataError, type ErrorCode } from '../../shared/errors.js';

/** What a thread is started with: the datastore key material (96 bytes) or null. */
export interface ChunkWorkerData {
  readonly keyMaterial: Uint8Array | null;
}

export type ChunkTask =
  | { readonly id: number; readonly op: 'describe'; readonly data: ArrayBuffer }
  | { readonly id: number; readonly op: 'encode'; readonly data: ArrayBuffer; readonly digest: ArrayBuffer }
  | { readonly id: number; readonly op: 'decode'; readonly blob: ArrayBuffer; readonly digest: ArrayBuffer };

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly details?: Record<string, unknown>;
}

export type ChunkTaskResult =
  | { readonly id: number; readonly ok: true; readonly op: 'describe'; readonly zero: boolean; readonly digest: ArrayBuffer | null; readonly data: ArrayBuffer }
  | { readonly id: number; readonly ok: true; readonly op: 'encode'; readonly blob: ArrayBuffer; readonly data: ArrayBuffer }
  | { readonly id: number; readonly ok: true; readonly op: 'decode'; readonly plaintext: ArrayBuffer }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/**
 * An ArrayBuffer holding exactly `bytes`, safe to transfer: the buffer's own memory when the view
 * covers all of it, else a copy (a small Buffer may sit in Node's shared pool, and a view into a
 * received gRPC message shares its memory with the other fields).
 */
export function transferableOf(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

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
