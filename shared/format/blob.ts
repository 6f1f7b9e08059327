/**
 * Blob: one stored chunk. The agent builds it, storage checks and keeps it byte for byte.
 *
 *   0   4  magic "BWKB"
 *   4   1  format version (1)
 *   5   1  flags: bit 0 zstd-compressed, bit 1 encrypted (AES-256-GCM, later)
 *   6   2  reserved, zero
 *   8   4  plaintext length, u32 LE
 *  12   4  payload length, u32 LE
 *  16  12  IV (zero when not encrypted)
 *  28   4  CRC-32 of bytes 0..28 and the payload
 *  32   …  payload (compressed or raw plaintext; ciphertext and tag when encrypted)
 *
 * The CRC lets storage check a blob without any key and at memory speed (6 GB/s here against
 * SHA-256's 1.8); the content digest (or, when encrypted, the GCM tag) is the strong check.
 */
import { crc32 } from 'node:zlib';
import { compress, decompress } from 'zstd-napi';
import { CorruptDataError } from '../errors.js';
import { chunkDigest, digestHex } from './chunk-digest.js';

export const BLOB_MAGIC = Buffer.from('BWKB', 'latin1');
export const BLOB_VERSION = 1;
export const BLOB_HEADER_BYTES = 32;
/** Largest plaintext a blob may hold (the largest chunk size). */
export const BLOB_MAX_PLAINTEXT_BYTES = 4 * 1024 * 1024;

const FLAG_ZSTD = 1;
const FLAG_ENCRYPTED = 2;

/** What a blob's header says about it. */
export interface BlobHeader {
  readonly version: number;
  readonly compressed: boolean;
  readonly encrypted: boolean;
  readonly plaintextBytes: number;
  readonly payloadBytes: number;
}

/** Builds a blob: zstd level 1, kept raw when compression does not make it smaller. */
export function encodeBlob(plaintext: Uint8Array, options: { compress?: boolean } = {}): Buffer {
  if (plaintext.length > BLOB_MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`chunk of ${plaintext.length} bytes exceeds ${BLOB_MAX_PLAINTEXT_BYTES}`);
  }
  let payload: Uint8Array = plaintext;
  let flags = 0;
  if (options.compress !== false) {
    const packed = compress(plaintext, { compressionLevel: 1 });
    if (packed.length < plaintext.length) {
      payload = packed;
      flags |= FLAG_ZSTD;
    }
  }
  const blob = Buffer.allocUnsafe(BLOB_HEADER_BYTES + payload.length);
  BLOB_MAGIC.copy(blob, 0);
  blob.writeUInt8(BLOB_VERSION, 4);
  blob.writeUInt8(flags, 5);
  blob.writeUInt16LE(0, 6);
  blob.writeUInt32LE(plaintext.length, 8);
  blob.writeUInt32LE(payload.length, 12);
  blob.fill(0, 16, 28);
  blob.set(payload, BLOB_HEADER_BYTES);
  blob.writeUInt32LE(blobCrc(blob), 28);
  return blob;
}

function blobCrc(blob: Buffer): number {
  return crc32(blob.subarray(BLOB_HEADER_BYTES), crc32(blob.subarray(0, 28)));
}

/** Checks a blob's structure and CRC without decoding it (no key needed); returns its header. */
export function checkBlob(blob: Uint8Array, what = 'blob'): BlobHeader {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < BLOB_HEADER_BYTES) throw new CorruptDataError(what, `truncated: ${buf.length} bytes`);
  if (!buf.subarray(0, 4).equals(BLOB_MAGIC)) throw new CorruptDataError(what, 'bad magic');
  const version = buf.readUInt8(4);
  if (version !== BLOB_VERSION) throw new CorruptDataError(what, `unknown format version ${version}`);
  const flags = buf.readUInt8(5);
  if ((flags & ~(FLAG_ZSTD | FLAG_ENCRYPTED)) !== 0) throw new CorruptDataError(what, `unknown flags ${flags}`);
  const plaintextBytes = buf.readUInt32LE(8);
  const payloadBytes = buf.readUInt32LE(12);
  if (plaintextBytes > BLOB_MAX_PLAINTEXT_BYTES) throw new CorruptDataError(what, 'plaintext length out of range');
  if (buf.length !== BLOB_HEADER_BYTES + payloadBytes) {
    throw new CorruptDataError(what, `length ${buf.length} does not match header (${BLOB_HEADER_BYTES + payloadBytes})`);
  }
  if (buf.readUInt32LE(28) !== blobCrc(buf)) throw new CorruptDataError(what, 'checksum mismatch');
  return {
    version,
    compressed: (flags & FLAG_ZSTD) !== 0,
    encrypted: (flags & FLAG_ENCRYPTED) !== 0,
    plaintextBytes,
    payloadBytes,
  };
}

/** Checks a blob and returns its plaintext. */
export function decodeBlob(blob: Uint8Array, what = 'blob'): Buffer {
  const header = checkBlob(blob, what);
  if (header.encrypted) throw new CorruptDataError(what, 'encrypted blobs need a key (not supported yet)');
  const payload = Buffer.from(blob.buffer, blob.byteOffset + BLOB_HEADER_BYTES, header.payloadBytes);
  let plaintext: Buffer;
  if (header.compressed) {
    try {
      plaintext = decompress(payload);
    } catch (err) {
      throw new CorruptDataError(what, 'zstd payload does not decompress', { cause: String(err) });
    }
  } else {
    plaintext = payload;
  }
  if (plaintext.length !== header.plaintextBytes) {
    throw new CorruptDataError(what, `plaintext is ${plaintext.length} bytes, header says ${header.plaintextBytes}`);
  }
  return plaintext;
}

/** Checks a blob fully: structure, CRC, and that its plaintext has the expected digest. */
export function decodeBlobChecked(blob: Uint8Array, digest: Uint8Array): Buffer {
  const what = `chunk ${digestHex(digest)}`;
  const plaintext = decodeBlob(blob, what);
  if (!chunkDigest(plaintext).equals(digest)) throw new CorruptDataError(what, 'content does not match its digest');
  return plaintext;
}
