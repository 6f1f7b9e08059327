import { webcrypto } from 'node:crypto';
import { CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { BLOB_HEADER_BYTES, checkBlob, decodeBlob, type BlobHeader } from '../../shared/format/blob.js';
import { digestHex } from '../../shared/format/chunk-digest.js';

/**
 * A blob of the wrong kind for the datastore (plain in an encrypted one, or encrypted in a plain
 * one): a PreconditionError, so the class survives the trip over gRPC.
 */
export function blobKindError(digest: string, encryptedDatastore: boolean, keyFingerprint: string | null): PreconditionError {
  return new PreconditionError(
    encryptedDatastore
      ? `chunk ${digest}: is not encrypted, but the datastore is (key fingerprint ${keyFingerprint ?? '?'}); it accepts only encrypted blobs`
      : `chunk ${digest}: is encrypted, but the datastore is not; it accepts only plain blobs`,
    { digest, encryptedDatastore, keyFingerprint, problem: encryptedDatastore ? 'not encrypted' : 'encrypted' },
  );
}

/**
 * How storage checks a blob without any key. Every blob: structure, CRC, plaintext no larger
 * than the chunk size, and the right kind for the datastore. Plain blobs (unencrypted
 * datastore) also have their plaintext hashed against the digest they are filed under; the hash
 * runs on libuv's thread pool (WebCrypto), not on the thread that serves gRPC. Encrypted blobs
 * cannot be checked further here: the GCM tag and the keyed digest are the key holder's checks.
 */
export class BlobChecker {
  constructor(
    readonly keyFingerprint: string | null,
    readonly maxPlaintextBytes: number,
  ) {}

  get encrypted(): boolean {
    return this.keyFingerprint !== null;
  }

  /** The quick checks (no hashing); throws CorruptDataError, or PreconditionError for the wrong kind, naming the digest. */
  checkShape(digest: Uint8Array, blob: Uint8Array): BlobHeader {
    const hex = digestHex(digest);
    const what = `chunk ${hex}`;
    const header = checkBlob(blob, what);
    if (header.plaintextBytes > this.maxPlaintextBytes) {
      throw new CorruptDataError(what, `plaintext of ${header.plaintextBytes} bytes exceeds the chunk size ${this.maxPlaintextBytes}`);
    }
    if (header.encrypted !== this.encrypted) throw blobKindError(hex, this.encrypted, this.keyFingerprint);
    return header;
  }

  /** Every check storage can make: the quick ones, then (plain blobs) the digest of the plaintext. */
  check(digest: Uint8Array, blob: Uint8Array): Promise<void> {
    return this.checkContent(digest, blob, this.checkShape(digest, blob));
  }

  /** The digest check of a plain blob whose shape `checkShape` already passed (no-op when encrypted). */
  async checkContent(digest: Uint8Array, blob: Uint8Array, header: BlobHeader): Promise<void> {
    if (header.encrypted) return;
    const what = `chunk ${digestHex(digest)}`;
    const plaintext = header.compressed
      ? decodeBlob(blob, what)
      : Buffer.from(blob.buffer, blob.byteOffset + BLOB_HEADER_BYTES, header.payloadBytes);
    if (!header.compressed && plaintext.length !== header.plaintextBytes) {
      throw new CorruptDataError(what, `plaintext is ${plaintext.length} bytes, header says ${header.plaintextBytes}`);
    }
    const actual = Buffer.from(await webcrypto.subtle.digest('SHA-256', plaintext));
    if (!actual.equals(digest)) throw new CorruptDataError(what, 'content does not match its digest');
  }
}
