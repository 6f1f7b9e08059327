/**
 * How a datastore turns chunk plaintext into digests and blobs, and back: SHA-256 and plain
 * blobs without a key; HMAC-SHA-256 digests and AES-256-GCM blobs with one. Writers and readers
 * build one from the datastore's key (or none) and never branch on encryption themselves.
 */
import { decodeBlobChecked, encodeBlob, type BlobSealing } from '../format/blob.js';
import { chunkDigest } from '../format/chunk-digest.js';
import { keyedDigest, keysFromMaterial, type DatastoreKeys } from './datastore-keys.js';

export class ChunkCodec {
  private readonly digestOf: (plaintext: Uint8Array) => Buffer;

  constructor(readonly keys: DatastoreKeys | null) {
    this.digestOf = keys ? (p) => keyedDigest(keys, p) : chunkDigest;
  }

  /** A codec from raw key material (96 bytes, e.g. passed to a worker thread), or none. */
  static fromMaterial(material: Buffer | null): ChunkCodec {
    return new ChunkCodec(material ? keysFromMaterial(material) : null);
  }

  /** The key fingerprint, or null when unencrypted. */
  get fingerprint(): string | null {
    return this.keys?.fingerprint ?? null;
  }

  /** The digest that names a chunk in this datastore. */
  digest(plaintext: Uint8Array): Buffer {
    return this.digestOf(plaintext);
  }

  /** The blob to store for a chunk (compressed; sealed when there is a key). */
  encode(plaintext: Uint8Array, digest: Uint8Array): Buffer {
    return encodeBlob(plaintext, this.keys ? { sealing: this.sealing(digest) } : {});
  }

  /** The plaintext of a blob, fully checked (CRC, GCM tag, digest). */
  decode(blob: Uint8Array, digest: Uint8Array): Buffer {
    return decodeBlobChecked(blob, digest, this.keys ? { sealing: this.sealing(digest), digestOf: this.digestOf } : {});
  }

  private sealing(digest: Uint8Array): BlobSealing {
    if (!this.keys) throw new Error('no key');
    return { encKey: this.keys.encKey, digest };
  }
}
