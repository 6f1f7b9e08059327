/**
 * PutChunksRequest (proto/bulwark/v1/blockstore.proto) encoded by hand: the message is three
 * length-delimited fields (1 session_id, 2 digest, 3 blob), so one allocation and one copy of the
 * blob make it, where protobufjs through proto-loader allocates and copies twice (measured on
 * 1 MiB blobs: 0.17 against 1.03 CPU-seconds per GiB, on the agent's main thread). The bytes are
 * exactly protobuf's (a unit test compares them with proto-loader's serializer and decodes them).
 */

const SESSION_ID_TAG = (1 << 3) | 2;
const DIGEST_TAG = (2 << 3) | 2;
const BLOB_TAG = (3 << 3) | 2;

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

function fieldBytes(length: number): number {
  return 1 + varintBytes(length) + length;
}

/** The encoded message: session id (when given, i.e. on the stream's first message), digest, blob. */
export function encodePutChunksRequest(sessionId: string | undefined, digest: Uint8Array, blob: Uint8Array): Buffer {
  const session = sessionId === undefined ? undefined : Buffer.from(sessionId, 'utf8');
  const size = (session ? fieldBytes(session.length) : 0) + fieldBytes(digest.length) + fieldBytes(blob.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (session) {
    out[at++] = SESSION_ID_TAG;
    at = writeVarint(out, at, session.length);
    at += session.copy(out, at);
  }
  out[at++] = DIGEST_TAG;
  at = writeVarint(out, at, digest.length);
  out.set(digest, at);
  at += digest.length;
  out[at++] = BLOB_TAG;
  at = writeVarint(out, at, blob.length);
  out.set(blob, at);
  return out;
}
