/**
 * The NBD wire format (NetworkBlockDevice/nbd doc/proto.md, subset of ../shared/QEMU-CBT.md §7):
 * constants, and encoders/decoders of the fixed-newstyle handshake, requests and replies. All
 * integers are big-endian. Key terms: an *option* is a handshake request (reply: REP_*), a
 * *request* is a transmission-phase command (reply: simple, or structured *chunks* sharing the
 * request's *cookie*), a *meta context* names the kind of block status asked for.
 * Offsets are JS numbers: exact up to 2^53, far beyond any disk.
 */

export const NBD_MAGIC = 0x4e42444d41474943n;
export const IHAVEOPT = 0x49484156454f5054n;
/** What an oldstyle server sends where IHAVEOPT would be. */
export const OLDSTYLE_MAGIC = 0x00420281861253n;
export const OPTION_REPLY_MAGIC = 0x0003e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

export const REQUEST_HEADER_BYTES = 28;
export const SIMPLE_REPLY_BYTES = 16;
export const STRUCTURED_HEADER_BYTES = 20;

/** Handshake flags (server) and client flags. */
export const HandshakeFlag = { FIXED_NEWSTYLE: 1 << 0, NO_ZEROES: 1 << 1 } as const;

export const NbdOption = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
} as const;

const REP_ERROR_BIT = 0x80000000;

export const NbdOptionReply = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: REP_ERROR_BIT + 1,
  ERR_POLICY: REP_ERROR_BIT + 2,
  ERR_INVALID: REP_ERROR_BIT + 3,
  ERR_PLATFORM: REP_ERROR_BIT + 4,
  ERR_TLS_REQD: REP_ERROR_BIT + 5,
  ERR_UNKNOWN: REP_ERROR_BIT + 6,
  ERR_SHUTDOWN: REP_ERROR_BIT + 7,
  ERR_BLOCK_SIZE_REQD: REP_ERROR_BIT + 8,
  ERR_TOO_BIG: REP_ERROR_BIT + 9,
} as const;

export const NbdInfo = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

export const TransmissionFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const;

export const NbdCommand = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

export const CommandFlag = { FUA: 1 << 0, NO_HOLE: 1 << 1, DF: 1 << 2, REQ_ONE: 1 << 3, FAST_ZERO: 1 << 4 } as const;

export const ReplyFlag = { DONE: 1 << 0 } as const;

export const ReplyType = {
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  ERROR: 0x8001,
  ERROR_OFFSET: 0x8002,
} as const;

/** Bit 15 of a chunk type: an error chunk, even when the type itself is unknown. */
export const REPLY_TYPE_ERROR_BIT = 0x8000;

export const BASE_ALLOCATION = 'base:allocation';
/** The meta context of a QEMU dirty bitmap. */
export function dirtyBitmapContext(bitmap: string): string {
  return `qemu:dirty-bitmap:${bitmap}`;
}

/** base:allocation status bits. */
export const AllocationFlag = { HOLE: 1 << 0, ZERO: 1 << 1 } as const;
/** qemu:dirty-bitmap:NAME status bit. */
export const DirtyFlag = { DIRTY: 1 << 0 } as const;

/** base:allocation: the range is not allocated (reads may still return data from nowhere: zeros). */
export function isHole(flags: number): boolean {
  return (flags & AllocationFlag.HOLE) !== 0;
}
/** base:allocation: the range reads as zeros. */
export function isZero(flags: number): boolean {
  return (flags & AllocationFlag.ZERO) !== 0;
}
/** qemu:dirty-bitmap:NAME: the range changed since the bitmap was created or cleared. */
export function isDirty(flags: number): boolean {
  return (flags & DirtyFlag.DIRTY) !== 0;
}

/** The errno values NBD carries; unknown values are read as EINVAL (proto.md "Error values"). */
export const NbdErrno = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;
export type NbdErrnoName = keyof typeof NbdErrno;

/** The name of an NBD errno; unknown values read as EINVAL. */
export function errnoName(errno: number): NbdErrnoName {
  for (const [name, value] of Object.entries(NbdErrno)) if (value === errno) return name as NbdErrnoName;
  return 'EINVAL';
}

/** A readable name for an option id (for errors). */
export function optionName(option: number): string {
  for (const [name, value] of Object.entries(NbdOption)) if (value === option) return `NBD_OPT_${name}`;
  return `NBD_OPT_${option}`;
}

/** A readable name for an option reply type (for errors). */
export function optionReplyName(reply: number): string {
  for (const [name, value] of Object.entries(NbdOptionReply)) if (value === reply) return `NBD_REP_${name}`;
  return `NBD_REP_${reply >>> 0}`;
}

/** A readable name for a command (for errors). */
export function commandName(command: number): string {
  for (const [name, value] of Object.entries(NbdCommand)) if (value === command) return `NBD_CMD_${name}`;
  return `NBD_CMD_${command}`;
}

/** Whether an option reply type is an error (bit 31). */
export function isOptionReplyError(reply: number): boolean {
  return (reply & REP_ERROR_BIT) !== 0;
}

const TWO_32 = 0x1_0000_0000;

/** Writes a non-negative safe integer as u64 at `at`. */
export function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** Reads a u64 at `at`; undefined when it does not fit a safe integer. */
export function readU64(buf: Buffer, at: number): number | undefined {
  const high = buf.readUInt32BE(at);
  if (high > 0x1fffff) return undefined;
  return high * TWO_32 + buf.readUInt32BE(at + 4);
}

/** An option request: IHAVEOPT, option, data length, data. */
export function encodeOption(option: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const buf = Buffer.allocUnsafe(16 + data.length);
  buf.writeBigUInt64BE(IHAVEOPT, 0);
  buf.writeUInt32BE(option, 8);
  buf.writeUInt32BE(data.length, 12);
  data.copy(buf, 16);
  return buf;
}

/** The data of NBD_OPT_GO / NBD_OPT_INFO: export name, then the info types asked for. */
export function encodeGoData(exportName: string, infoRequests: readonly number[]): Buffer {
  const name = Buffer.from(exportName, 'utf8');
  const buf = Buffer.allocUnsafe(4 + name.length + 2 + 2 * infoRequests.length);
  buf.writeUInt32BE(name.length, 0);
  name.copy(buf, 4);
  let at = 4 + name.length;
  buf.writeUInt16BE(infoRequests.length, at);
  at += 2;
  for (const info of infoRequests) {
    buf.writeUInt16BE(info, at);
    at += 2;
  }
  return buf;
}

/** The data of NBD_OPT_SET_META_CONTEXT / LIST_META_CONTEXT: export name, then the queries. */
export function encodeMetaContextData(exportName: string, queries: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  const name = Buffer.from(exportName, 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(name.length, 0);
  parts.push(head, name);
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(queries.length, 0);
  parts.push(count);
  for (const query of queries) {
    const q = Buffer.from(query, 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(q.length, 0);
    parts.push(len, q);
  }
  return Buffer.concat(parts);
}

/** The fixed part of an option reply. */
export interface OptionReplyHeader {
  readonly option: number;
  readonly type: number;
  readonly length: number;
}

/** Decodes the 20-byte option reply header; undefined when the magic is wrong. */
export function decodeOptionReplyHeader(buf: Buffer): OptionReplyHeader | undefined {
  if (buf.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) return undefined;
  return { option: buf.readUInt32BE(8), type: buf.readUInt32BE(12), length: buf.readUInt32BE(16) };
}

/** Block size constraints of an export (proto.md "Size constraints"). */
export interface BlockSizeConstraints {
  readonly minimum: number;
  readonly preferred: number;
  readonly maximum: number;
}

/** An NBD_REP_INFO payload the client uses. */
export type DecodedInfo =
  | { readonly kind: 'export'; readonly sizeBytes: number; readonly flags: number }
  | { readonly kind: 'block-size'; readonly constraints: BlockSizeConstraints }
  | { readonly kind: 'other'; readonly infoType: number };

/** Decodes an NBD_REP_INFO payload; undefined when a known type has the wrong length or size. */
export function decodeInfo(payload: Buffer): DecodedInfo | undefined {
  if (payload.length < 2) return undefined;
  const infoType = payload.readUInt16BE(0);
  if (infoType === NbdInfo.EXPORT) {
    if (payload.length !== 12) return undefined;
    const sizeBytes = readU64(payload, 2);
    if (sizeBytes === undefined) return undefined;
    return { kind: 'export', sizeBytes, flags: payload.readUInt16BE(10) };
  }
  if (infoType === NbdInfo.BLOCK_SIZE) {
    if (payload.length !== 14) return undefined;
    return {
      kind: 'block-size',
      constraints: { minimum: payload.readUInt32BE(2), preferred: payload.readUInt32BE(6), maximum: payload.readUInt32BE(10) },
    };
  }
  return { kind: 'other', infoType };
}

/** Decodes an NBD_REP_META_CONTEXT payload: context id and name. */
export function decodeMetaContext(payload: Buffer): { id: number; name: string } | undefined {
  if (payload.length < 4) return undefined;
  return { id: payload.readUInt32BE(0), name: payload.toString('utf8', 4) };
}

/** Encodes a 28-byte request header into `buf` at 0. The cookie is a u32 counter (high half 0). */
export function encodeRequestHeader(
  buf: Buffer,
  flags: number,
  command: number,
  cookie: number,
  offset: number,
  length: number,
): void {
  buf.writeUInt32BE(REQUEST_MAGIC, 0);
  buf.writeUInt16BE(flags, 4);
  buf.writeUInt16BE(command, 6);
  buf.writeUInt32BE(0, 8);
  buf.writeUInt32BE(cookie, 12);
  writeU64(buf, offset, 16);
  buf.writeUInt32BE(length, 24);
}

/** Decodes the payload of an ERROR / ERROR_OFFSET (or unknown error) chunk. */
export function decodeErrorPayload(
  type: number,
  payload: Buffer,
): { errno: number; message: string; offset?: number } | undefined {
  if (payload.length < 6) return undefined;
  const errno = payload.readUInt32BE(0);
  const messageLength = payload.readUInt16BE(4);
  if (6 + messageLength > payload.length) return undefined;
  const message = payload.toString('utf8', 6, 6 + messageLength);
  if (type !== ReplyType.ERROR_OFFSET) return { errno, message };
  if (payload.length !== 6 + messageLength + 8) return undefined;
  const offset = readU64(payload, 6 + messageLength);
  return offset === undefined ? { errno, message } : { errno, message, offset };
}

/** A run of blocks with the same status flags; offsets are absolute. */
export interface NbdExtent {
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
}

/**
 * Decodes a BLOCK_STATUS chunk payload (context id, then (length, flags) pairs) into extents
 * starting at `offset`; undefined when the payload is malformed or has a zero-length extent.
 */
export function decodeBlockStatus(
  payload: Buffer,
  offset: number,
): { contextId: number; extents: NbdExtent[] } | undefined {
  if (payload.length < 12 || (payload.length - 4) % 8 !== 0) return undefined;
  const contextId = payload.readUInt32BE(0);
  const extents: NbdExtent[] = [];
  let at = offset;
  for (let i = 4; i < payload.length; i += 8) {
    const length = payload.readUInt32BE(i);
    if (length === 0) return undefined;
    extents.push({ offset: at, length, flags: payload.readUInt32BE(i + 4) });
    at += length;
  }
  return { contextId, extents };
}
