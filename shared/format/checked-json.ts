/**
 * Self-checking JSON files (manifests; the datastore's datastore.json, session.json,
 * verified.json, lock.json): canonical JSON with a SHA-256 `checksum` of the rest, so damage is
 * detected rather than read as a different value.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { CorruptDataError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';

/** SHA-256 hex of a value's canonical JSON. */
export function checksumOf(body: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** Parses a file as one JSON object; anything else is a CorruptDataError naming `what`. */
export function parseJsonObject(file: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('utf8'));
  } catch {
    throw new CorruptDataError(what, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptDataError(what, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The file for `body`: canonical JSON with its format, version and checksum. */
export function encodeCheckedJson(format: string, version: number, body: Record<string, unknown>): Buffer {
  const full = { ...body, format, version };
  return Buffer.from(canonicalJson({ ...full, checksum: checksumOf(full) }), 'utf8');
}

/** Checks and decodes such a file against `schema`; any damage is a CorruptDataError naming `what`. */
export function decodeCheckedJson<S extends z.ZodType>(
  file: Uint8Array,
  format: string,
  version: number,
  schema: S,
  what: string,
): z.output<S> {
  const { checksum, ...rest } = parseJsonObject(file, what);
  if (typeof checksum !== 'string' || checksum !== checksumOf(rest)) throw new CorruptDataError(what, 'checksum mismatch');
  if (rest.format !== format) throw new CorruptDataError(what, `not a ${format} file`);
  if (rest.version !== version) throw new CorruptDataError(what, `unknown format version ${String(rest.version)}`);
  const { format: _f, version: _v, ...body } = rest;
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptDataError(what, `invalid field ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  return parsed.data;
}
