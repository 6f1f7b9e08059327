/**
 * datastore.json: the identity of a datastore (id, chunk size, key fingerprint), written once
 * when the datastore is created, last of all its skeleton, so a directory without it is not yet
 * a datastore.
 */
import { z } from 'zod';
import { decodeCheckedJson, encodeCheckedJson } from '../../shared/format/checked-json.js';

export const DATASTORE_FORMAT = 'bulwark-datastore';
export const DATASTORE_VERSION = 1;

export const DatastoreFileBody = z.strictObject({
  id: z.string().min(1),
  chunkSizeBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(4 * 1024 * 1024)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  createdAt: z.iso.datetime(),
  /** Fingerprint of the encryption key; null while encryption is off. */
  keyFingerprint: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters')
    .nullable(),
});
export type DatastoreFileBody = z.infer<typeof DatastoreFileBody>;

/** The bytes of datastore.json. */
export function encodeDatastoreFile(body: DatastoreFileBody): Buffer {
  return encodeCheckedJson(DATASTORE_FORMAT, DATASTORE_VERSION, DatastoreFileBody.parse(body));
}

/** Checks and decodes datastore.json; damage is a CorruptDataError. */
export function decodeDatastoreFile(file: Uint8Array, what = 'datastore.json'): DatastoreFileBody {
  return decodeCheckedJson(file, DATASTORE_FORMAT, DATASTORE_VERSION, DatastoreFileBody, what);
}
