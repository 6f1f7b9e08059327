/**
 * The key material of an encrypted datastore: three independent 256-bit keys.
 * - encKey seals blobs (AES-256-GCM);
 * - idKey makes chunk digests (HMAC-SHA-256), so a digest reveals nothing about content;
 * - macKey signs a backup's content (HMAC-SHA-256 over its disks and index hashes), so a
 *   storage cannot swap indexes or manifests unnoticed by a key holder.
 * The fingerprint names the key without revealing it; datastores record it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { canonicalJson } from '../format/canonical-json.js';

export const KEY_BYTES = 32;
export const KEY_MATERIAL_BYTES = 3 * KEY_BYTES;

/** The three keys and the fingerprint derived from them. */
export interface DatastoreKeys {
  readonly encKey: Buffer;
  readonly idKey: Buffer;
  readonly macKey: Buffer;
  /** 32 hex characters. */
  readonly fingerprint: string;
}

/** Fresh random key material (96 bytes). */
export function generateKeyMaterial(): Buffer {
  return randomBytes(KEY_MATERIAL_BYTES);
}

/** Splits 96 bytes of key material into the keys, and derives the fingerprint. */
export function keysFromMaterial(material: Buffer): DatastoreKeys {
  if (material.length !== KEY_MATERIAL_BYTES) throw new RangeError(`key material must be ${KEY_MATERIAL_BYTES} bytes`);
  const encKey = Buffer.from(material.subarray(0, KEY_BYTES));
  const idKey = Buffer.from(material.subarray(KEY_BYTES, 2 * KEY_BYTES));
  const macKey = Buffer.from(material.subarray(2 * KEY_BYTES));
  const fingerprint = createHmac('sha256', macKey).update('bulwark key fingerprint v1').update(idKey).update(encKey).digest('hex').slice(0, 32);
  return { encKey, idKey, macKey, fingerprint };
}

/** The keyed digest of a chunk's plaintext. */
export function keyedDigest(keys: DatastoreKeys, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', keys.idKey).update(plaintext).digest();
}

/** What the content HMAC covers: everything a reader relies on to put the disks back together. */
export interface BackupContent {
  readonly vm: string;
  readonly chunkSizeBytes: number;
  readonly disks: readonly { readonly name: string; readonly sizeBytes: number; readonly indexSha256: string }[];
}

/** The writer's HMAC over a backup's content, hex. */
export function contentHmac(keys: DatastoreKeys, content: BackupContent): string {
  const canonical = canonicalJson({
    vm: content.vm,
    chunkSizeBytes: content.chunkSizeBytes,
    disks: content.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, indexSha256: d.indexSha256 })),
  });
  return createHmac('sha256', keys.macKey).update(canonical).digest('hex');
}

/** The 96 bytes the keys came from (to hand them to a worker thread). */
export function keyMaterialOf(keys: DatastoreKeys): Buffer {
  return Buffer.concat([keys.encKey, keys.idKey, keys.macKey]);
}
