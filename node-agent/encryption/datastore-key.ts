/**
 * The agent's side of the encryption contract: a datastore is encrypted iff storage reports a key
 * fingerprint; the agent works on it only with that very key, and on an unencrypted one only
 * without a key, and says so before anything changes. With a key it signs what a backup is
 * (content HMAC over each disk's index file hash), so a reader holding the key can tell that
 * storage did not swap an index or a manifest.
 */
import { contentHmac, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { encodeFixedIndex, fixedIndexFileSha256 } from '../../shared/format/fixed-index.js';
import type { Manifest } from '../../shared/format/manifest.js';
import type { DatastoreInfo } from '../ports/block-store.js';

/** Throws PreconditionError, naming both fingerprints, unless the agent's key is the datastore's. */
export function requireDatastoreKey(info: DatastoreInfo, keys: DatastoreKeys | null): void {
  const datastoreKey = info.keyFingerprint;
  const agentKey = keys?.fingerprint ?? null;
  if (datastoreKey === agentKey) return;
  const details = { datastoreId: info.datastoreId, datastoreKeyFingerprint: datastoreKey, agentKeyFingerprint: agentKey };
  if (agentKey === null) {
    throw new PreconditionError(
      `datastore ${info.datastoreId} is encrypted with key ${datastoreKey ?? 'none'} and this agent has no key (agent key: none); configure encryption.keyFile`,
      details,
    );
  }
  if (datastoreKey === null) {
    throw new PreconditionError(
      `datastore ${info.datastoreId} is not encrypted (datastore key: none) but this agent holds key ${agentKey}; refusing to mix encrypted and plain data`,
      details,
    );
  }
  throw new PreconditionError(`datastore ${info.datastoreId} is encrypted with key ${datastoreKey}, but this agent holds key ${agentKey}`, details);
}

/** A disk's content as the writer knows it: its size and its digests, position by position. */
export interface DiskDigests {
  readonly name: string;
  readonly sizeBytes: number;
  readonly digests: Buffer;
}

/**
 * The content HMAC of a backup the agent wrote: over each disk's .fidx file hash, the file being
 * exactly what storage builds from the PutIndex parts.
 */
export function backupContentHmac(keys: DatastoreKeys, vm: string, chunkSizeBytes: number, disks: readonly DiskDigests[]): string {
  return contentHmac(keys, {
    vm,
    chunkSizeBytes,
    disks: disks.map((d) => ({
      name: d.name,
      sizeBytes: d.sizeBytes,
      indexSha256: fixedIndexFileSha256(encodeFixedIndex(chunkSizeBytes, d.sizeBytes, d.digests)),
    })),
  });
}

/**
 * Checks, with the key, that a manifest says what its writer signed: the key fingerprint and the
 * content HMAC over its disks (whose index files the reader checks against indexSha256).
 */
export function requireSignedManifest(manifest: Manifest, keys: DatastoreKeys): void {
  const what = `manifest of backup ${manifest.backupId}`;
  if (manifest.keyFingerprint !== keys.fingerprint) {
    throw new CorruptDataError(what, `names key ${manifest.keyFingerprint ?? 'none'}, not this agent's key ${keys.fingerprint}`);
  }
  const expected = contentHmac(keys, {
    vm: manifest.vm,
    chunkSizeBytes: manifest.chunkSizeBytes,
    disks: manifest.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, indexSha256: d.indexSha256 })),
  });
  if (manifest.contentHmac !== expected) {
    throw new CorruptDataError(what, manifest.contentHmac ? 'content HMAC does not match (the backup was altered)' : 'has no content HMAC');
  }
}
