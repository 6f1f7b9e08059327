/**
 * NBD client on node:net (protocol subset of ../shared/QEMU-CBT.md §7): fixed-newstyle
 * handshake with structured replies, meta contexts (`base:allocation`,
 * `qemu:dirty-bitmap:NAME`) and NBD_OPT_GO; then pipelined requests matched by *cookie*.
 * Replies are parsed straight off the socket's read buffer: OFFSET_DATA payloads are copied
 * once, into the caller's buffer, and never concatenated. A request that the server answers
 * with an error rejects alone (NbdRequestError); anything that desynchronises the stream, or a
 * lost socket, fails the connection and every pending request (NbdDisconnectedError).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ValidationError } from '../../../shared/errors.js';
import {
  NbdConnectError,
  NbdDisconnectedError,
  NbdExportNotFoundError,
  NbdHandshakeError,
  NbdMetaContextError,
  NbdProtocolError,
  NbdRequestError,
  NbdTimeoutError,
  NbdUnsupportedError,
} from './nbd-errors.js';
import {
  CommandFlag,
  HandshakeFlag,
  IHAVEOPT,
  NBD_MAGIC,
  NbdCommand,
  NbdInfo,
  NbdOption,
  NbdOptionReply,
  OLDSTYLE_MAGIC,
  REPLY_TYPE_ERROR_BIT,
  REQUEST_HEADER_BYTES,
  ReplyFlag,
  ReplyType,
  SIMPLE_REPLY_MAGIC,
  STRUCTURED_REPLY_MAGIC,
  TransmissionFlag,
  commandName,
  decodeBlockStatus,
  decodeErrorPayload,
  decodeInfo,
  decodeMetaContext,
  decodeOptionReplyHeader,
  encodeGoData,
  encodeMetaContextData,
  encodeOption,
  encodeRequestHeader,
  isOptionReplyError,
  optionName,
  optionReplyName,
  readU64,
  type BlockSizeConstraints,
  type NbdExtent,
} from './nbd-protocol.js';

export type { NbdExtent };

/** Where the server listens: a unix socket, or TCP. */
export type NbdAddress = { readonly socketPath: string } | { readonly host: string; readonly port: number };

export interface NbdConnectOptions {
  /** Meta contexts to select; each one the server does not select fails the connect (NbdMetaContextError). */
  readonly metaContexts?: readonly string[];
  /** Deadline of connect + handshake; default 10 s. */
  readonly timeoutMs?: number;
  /** Fail the connection when requests are pending and the server sent nothing for this long; default none. */
  readonly replyTimeoutMs?: number;
  /** Requests on the wire at once; more wait in the client (FIFO). Default 64. */
  readonly maxInFlight?: number;
}

/** What the export can do, from its transmission flags. */
export interface NbdExportFlags {
  readonly readOnly: boolean;
  readonly canFlush: boolean;
  readonly canFua: boolean;
  readonly rotational: boolean;
  readonly canTrim: boolean;
  readonly canWriteZeroes: boolean;
  readonly canDf: boolean;
  readonly canMultiConn: boolean;
  readonly canCache: boolean;
  readonly canFastZero: boolean;
}

export interface NbdExtentWalkOptions {
  /** First byte; default 0. */
  readonly from?: number;
  /** End (exclusive); default the disk size. The last extent is clamped to it. */
  readonly to?: number;
  /** Bytes asked for per BLOCK_STATUS request (the length is u32); default 1 GiB. */
  readonly stepBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 64;
const DEFAULT_BLOCK_SIZE: BlockSizeConstraints = { minimum: 1, preferred: 4096, maximum: 32 * 1024 * 1024 };
/** Reads and writes are split at this size even when the server allows more. */
const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;
/** Length per WRITE_ZEROES / TRIM request (u32 field; a power of two keeps any block size aligned). */
const MAX_RANGE_BYTES = 1024 * 1024 * 1024;
const MAX_U32 = 0xffff_ffff;
const DEFAULT_STEP_BYTES = 1024 * 1024 * 1024;
/** Largest option reply or non-data chunk payload accepted (block status of 1 GiB at 512 B granules is 16 MiB). */
const MAX_CONTROL_PAYLOAD_BYTES = 64 * 1024 * 1024;
const READ_BUFFER_BYTES = 256 * 1024;

interface Pending {
  readonly cookie: number;
  readonly command: number;
  readonly offset: number;
  readonly length: number;
  /** READ: where the data goes (exactly `length` bytes). */
  readonly target: Buffer | undefined;
  received: number;
  error: Error | undefined;
  statuses: Map<number, NbdExtent[]> | undefined;
  readonly resolve: (p: Pending) => void;
  readonly reject: (err: Error) => void;
}

interface SlotWaiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const enum ParseState {
  Header,
  Data,
  Payload,
}

/** A connection to one NBD export, in the transmission phase. */
export class NbdClient {
  /** The export's size in bytes. */
  readonly sizeBytes: number;
  /** Raw transmission flags. */
  readonly transmissionFlags: number;
  readonly flags: NbdExportFlags;
  readonly blockSize: BlockSizeConstraints;
  /** Selected meta contexts, by name, with the server's (per-connection) ids. */
  readonly contexts: ReadonlyMap<string, number>;

  private readonly contextNames = new Map<number, string>();
  private readonly pending = new Map<number, Pending>();
  private readonly slotWaiters: SlotWaiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxInFlight: number;
  private readonly maxPayloadBytes: number;
  private inFlight = 0;
  private nextCookie = 1;
  private failure: NbdDisconnectedError | undefined;
  private disconnecting = false;
  private corked = false;
  private lastActivityMs = Date.now();
  private readonly watchdog: NodeJS.Timeout | undefined;
  private readonly closed: Promise<void>;
  private socketError: Error | undefined;

  // Reply parser state. `head` holds a reply header (16 or 20 bytes) plus the 8-byte offset of
  // an OFFSET_DATA chunk; `need` is how many bytes of it the current step waits for.
  private state = ParseState.Header;
  private readonly head = Buffer.alloc(28);
  private have = 0;
  private need = 4;
  private chunk: Pending | undefined;
  private chunkFlags = 0;
  private chunkType = 0;
  private dataTarget: Buffer | undefined;
  private dataAt = 0;
  private remaining = 0;
  private payload: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly socket: Socket,
    readonly exportName: string,
    info: HandshakeResult,
    options: NbdConnectOptions,
  ) {
    this.sizeBytes = info.sizeBytes;
    this.transmissionFlags = info.flags;
    this.flags = decodeFlags(info.flags);
    this.blockSize = info.blockSize;
    this.contexts = info.contexts;
    for (const [name, id] of info.contexts) this.contextNames.set(id, name);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.maxPayloadBytes = Math.max(1, Math.min(info.blockSize.maximum, MAX_PAYLOAD_BYTES));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', (err) => {
      this.socketError ??= err;
    });
    socket.once('close', () => {
      this.fail(
        this.disconnecting && this.pending.size === 0
          ? new NbdDisconnectedError('disconnected by the client')
          : new NbdDisconnectedError('connection lost', { cause: this.socketError }),
      );
    });
    const replyTimeoutMs = options.replyTimeoutMs;
    if (replyTimeoutMs !== undefined && replyTimeoutMs > 0) {
      this.watchdog = setInterval(() => {
        if (this.pending.size > 0 && Date.now() - this.lastActivityMs > replyTimeoutMs) {
          const timeout = new NbdTimeoutError('reply', replyTimeoutMs);
          this.fail(new NbdDisconnectedError(timeout.message, { cause: timeout }));
        }
      }, Math.max(10, Math.floor(replyTimeoutMs / 4)));
      this.watchdog.unref();
    }
  }

  /** Connects, negotiates (structured replies, meta contexts, GO) and returns the ready client. */
  static async connect(address: NbdAddress, exportName: string, options: NbdConnectOptions = {}): Promise<NbdClient> {
    const label = 'socketPath' in address ? address.socketPath : `${address.host}:${address.port}`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const reader = new HandshakeReader();
    let client: NbdClient | undefined;
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const onread = {
      buffer: readBuffer,
      callback: (bytes: number): boolean => {
        if (client) client.onBytes(readBuffer, bytes);
        else reader.push(Buffer.from(readBuffer.subarray(0, bytes)));
        return true;
      },
    };
    const socket =
      'socketPath' in address
        ? netConnect({ path: address.socketPath, onread })
        : netConnect({ host: address.host, port: address.port, onread, noDelay: true });
    const onError = (err: Error): void => reader.fail(new NbdConnectError(label, err.message, { cause: err }));
    const onClose = (): void => reader.fail(new NbdConnectError(label, 'connection closed during the handshake'));
    socket.on('error', onError);
    socket.on('close', onClose);
    const timer = setTimeout(() => {
      reader.fail(new NbdTimeoutError(`handshake with ${label}`, timeoutMs));
      socket.destroy();
    }, timeoutMs);
    try {
      const info = await handshake(socket, reader, exportName, uniq(options.metaContexts ?? []));
      socket.off('error', onError);
      socket.off('close', onClose);
      const created = new NbdClient(socket, exportName, info, options);
      client = created;
      const rest = reader.takeRest();
      if (rest.length > 0) created.onBytes(rest, rest.length);
      return created;
    } catch (err) {
      if (reader.negotiating && !socket.destroyed) {
        // Still in option haggling: say goodbye so the server does not log a dropped client.
        const fallback = setTimeout(() => socket.destroy(), 1000);
        fallback.unref();
        socket.end(encodeOption(NbdOption.ABORT), () => socket.destroy());
      } else {
        socket.destroy();
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the connection is closed (after disconnect, loss or a protocol failure). */
  get isClosed(): boolean {
    return this.failure !== undefined;
  }

  /** Reads `length` bytes at `offset` into a new buffer. */
  async read(offset: number, length: number): Promise<Buffer> {
    const target = Buffer.allocUnsafe(length);
    await this.readInto(target, offset);
    return target;
  }

  /** Fills `target` with the bytes at `offset`; split into several requests above the max payload. */
  async readInto(target: Buffer, offset: number): Promise<void> {
    this.checkRange(offset, target.length);
    if (target.length === 0) return;
    const max = this.maxPayloadBytes;
    if (target.length <= max) {
      await this.submit(NbdCommand.READ, 0, offset, target.length, target, undefined);
      return;
    }
    const parts: Promise<Pending>[] = [];
    for (let at = 0; at < target.length; at += max) {
      const end = Math.min(at + max, target.length);
      parts.push(this.submit(NbdCommand.READ, 0, offset + at, end - at, target.subarray(at, end), undefined));
    }
    await settleAll(parts);
  }

  /** The extents of one negotiated meta context for [offset, offset+length); the last may run past the end. */
  async blockStatus(context: string, offset: number, length: number): Promise<NbdExtent[]> {
    const id = this.contexts.get(context);
    if (id === undefined) throw new NbdUnsupportedError(this.exportName, `meta context ${context} (not negotiated)`);
    this.checkRange(offset, length);
    if (length === 0 || length > MAX_U32) throw new ValidationError('length', `must be 1..${MAX_U32} for block status`);
    const reply = await this.submit(NbdCommand.BLOCK_STATUS, 0, offset, length, undefined, undefined);
    const extents = reply.statuses?.get(id);
    if (!extents) throw new NbdProtocolError(`block status reply without context ${context}`, { offset, length });
    return extents;
  }

  /**
   * Walks [from, to) of one meta context in BLOCK_STATUS steps, each continuing at the end of
   * the last extent returned; adjacent extents with equal flags are merged, the last is clamped to `to`.
   */
  async *extents(context: string, options: NbdExtentWalkOptions = {}): AsyncGenerator<NbdExtent, void, undefined> {
    const from = options.from ?? 0;
    const to = options.to ?? this.sizeBytes;
    const step = options.stepBytes ?? DEFAULT_STEP_BYTES;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to || to > this.sizeBytes) {
      throw new ValidationError('from/to', `must satisfy 0 <= from <= to <= ${this.sizeBytes}`);
    }
    if (!Number.isSafeInteger(step) || step < 1 || step > MAX_U32) {
      throw new ValidationError('stepBytes', `must be 1..${MAX_U32}`);
    }
    let run: { offset: number; length: number; flags: number } | undefined;
    let pos = from;
    while (pos < to) {
      const list = await this.blockStatus(context, pos, Math.min(step, to - pos));
      for (const e of list) {
        const end = Math.min(e.offset + e.length, to);
        if (run && run.flags === e.flags) {
          run.length = end - run.offset;
        } else {
          if (run) yield run;
          run = { offset: e.offset, length: end - e.offset, flags: e.flags };
        }
        pos = end;
        if (pos >= to) break;
      }
    }
    if (run) yield run;
  }

  /** Writes `data` at `offset` (split above the max payload); `data` must not change until this resolves. */
  async write(offset: number, data: Buffer, options: { fua?: boolean } = {}): Promise<void> {
    this.requireWritable('write');
    if (options.fua) this.require(this.flags.canFua, 'FUA');
    this.checkRange(offset, data.length);
    if (data.length === 0) return;
    const flags = options.fua ? CommandFlag.FUA : 0;
    const max = this.maxPayloadBytes;
    const parts: Promise<Pending>[] = [];
    for (let at = 0; at < data.length; at += max) {
      const end = Math.min(at + max, data.length);
      parts.push(this.submit(NbdCommand.WRITE, flags, offset + at, end - at, undefined, data.subarray(at, end)));
    }
    await settleAll(parts);
  }

  /** Writes zeros; the server may punch holes unless `noHole`. `fastZero` fails fast when it would be slow. */
  async writeZeroes(
    offset: number,
    length: number,
    options: { noHole?: boolean; fua?: boolean; fastZero?: boolean } = {},
  ): Promise<void> {
    this.requireWritable('write zeroes');
    this.require(this.flags.canWriteZeroes, 'write zeroes');
    if (options.fua) this.require(this.flags.canFua, 'FUA');
    if (options.fastZero) this.require(this.flags.canFastZero, 'fast zero');
    const flags =
      (options.noHole ? CommandFlag.NO_HOLE : 0) |
      (options.fua ? CommandFlag.FUA : 0) |
      (options.fastZero ? CommandFlag.FAST_ZERO : 0);
    await this.ranged(NbdCommand.WRITE_ZEROES, flags, offset, length);
  }

  /** Tells the server the range is no longer needed (reads may then return anything). */
  async trim(offset: number, length: number, options: { fua?: boolean } = {}): Promise<void> {
    this.requireWritable('trim');
    this.require(this.flags.canTrim, 'trim');
    if (options.fua) this.require(this.flags.canFua, 'FUA');
    await this.ranged(NbdCommand.TRIM, options.fua ? CommandFlag.FUA : 0, offset, length);
  }

  /** Makes completed writes durable. */
  async flush(): Promise<void> {
    this.require(this.flags.canFlush, 'flush');
    await this.submit(NbdCommand.FLUSH, 0, 0, 0, undefined, undefined);
  }

  /** Waits for pending requests, sends NBD_CMD_DISC and closes the socket. */
  async disconnect(): Promise<void> {
    if (this.failure) return;
    this.disconnecting = true;
    while (this.inFlight > 0 || this.slotWaiters.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    if (!this.failure) {
      const head = Buffer.allocUnsafe(REQUEST_HEADER_BYTES);
      encodeRequestHeader(head, 0, NbdCommand.DISC, 0, 0, 0);
      this.socket.end(head);
      const timer = setTimeout(() => this.socket.destroy(), 5000);
      timer.unref();
      await this.closed;
      clearTimeout(timer);
    }
  }

  /** Closes the socket now; pending requests reject with NbdDisconnectedError. */
  destroy(): void {
    this.fail(new NbdDisconnectedError('closed by the client'));
  }

  private require(capable: boolean, capability: string): void {
    if (!capable) throw new NbdUnsupportedError(this.exportName, capability);
  }

  private requireWritable(what: string): void {
    if (this.flags.readOnly) throw new NbdUnsupportedError(this.exportName, `${what} (the export is read-only)`);
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new ValidationError('offset/length', 'must be non-negative integers');
    }
    if (offset + length > this.sizeBytes) {
      throw new ValidationError('offset/length', `${offset}+${length} is past the end of the export (${this.sizeBytes})`);
    }
  }

  private async ranged(command: number, flags: number, offset: number, length: number): Promise<void> {
    this.checkRange(offset, length);
    const parts: Promise<Pending>[] = [];
    for (let at = 0; at < length; at += MAX_RANGE_BYTES) {
      const n = Math.min(MAX_RANGE_BYTES, length - at);
      parts.push(this.submit(command, flags, offset + at, n, undefined, undefined));
    }
    await settleAll(parts);
  }

  /** Sends one request once a slot is free; resolves with its completed state. */
  private async submit(
    command: number,
    flags: number,
    offset: number,
    length: number,
    target: Buffer | undefined,
    data: Buffer | undefined,
  ): Promise<Pending> {
    if (this.failure) throw this.failure;
    if (this.disconnecting) throw new NbdDisconnectedError('disconnecting');
    if (this.inFlight < this.maxInFlight) this.inFlight++;
    else await new Promise<void>((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
    // A slot is now held (handed over by release() when we waited).
    return new Promise<Pending>((resolve, reject) => {
      const failure = this.failure;
      if (failure) {
        this.release();
        reject(failure);
        return;
      }
      const cookie = this.takeCookie();
      const pending: Pending = {
        cookie,
        command,
        offset,
        length,
        target,
        received: 0,
        error: undefined,
        statuses: undefined,
        resolve,
        reject,
      };
      if (this.pending.size === 0) this.lastActivityMs = Date.now();
      this.pending.set(cookie, pending);
      const head = Buffer.allocUnsafe(REQUEST_HEADER_BYTES);
      encodeRequestHeader(head, flags, command, cookie, offset, length);
      if (!this.corked) {
        // Requests issued in the same tick leave in one write.
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(head);
      if (data) this.socket.write(data);
    });
  }

  private takeCookie(): number {
    for (;;) {
      const cookie = this.nextCookie;
      this.nextCookie = cookie >= MAX_U32 ? 1 : cookie + 1;
      if (!this.pending.has(cookie)) return cookie;
    }
  }

  /** Frees a slot: handed straight to the next waiter, so the limit holds. */
  private release(): void {
    const next = this.slotWaiters.shift();
    if (next) {
      next.resolve();
      return;
    }
    this.inFlight--;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private complete(p: Pending): void {
    this.pending.delete(p.cookie);
    this.release();
    if (p.error) p.reject(p.error);
    else if (p.command === NbdCommand.READ && p.received !== p.length) {
      p.reject(new NbdProtocolError(`read reply covered ${p.received} of ${p.length} bytes`, { offset: p.offset }));
    } else p.resolve(p);
  }

  /** Fails the connection: every pending and waiting request rejects with `err`. */
  private fail(err: NbdDisconnectedError): void {
    if (this.failure) return;
    this.failure = err;
    if (this.watchdog) clearInterval(this.watchdog);
    this.socket.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.inFlight = 0;
    for (const p of pending) p.reject(err);
    for (const w of this.slotWaiters.splice(0)) w.reject(err);
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private protocolFailure(problem: string, details: Record<string, unknown> = {}): void {
    const cause = new NbdProtocolError(problem, details);
    this.fail(new NbdDisconnectedError(cause.message, { cause }));
  }

  /** Consumes `bytes` bytes of `buf` (the socket's reused read buffer: copy out, keep no reference). */
  private onBytes(buf: Buffer, bytes: number): void {
    this.lastActivityMs = Date.now();
    let pos = 0;
    while (pos < bytes && !this.failure) {
      if (this.state === ParseState.Data) {
        const n = Math.min(this.remaining, bytes - pos);
        if (this.dataTarget) buf.copy(this.dataTarget, this.dataAt, pos, pos + n);
        this.dataAt += n;
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.endData();
      } else if (this.state === ParseState.Payload) {
        const n = Math.min(this.remaining, bytes - pos);
        buf.copy(this.payload, this.payload.length - this.remaining, pos, pos + n);
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.onPayload(this.payload);
      } else {
        const n = Math.min(this.need - this.have, bytes - pos);
        buf.copy(this.head, this.have, pos, pos + n);
        this.have += n;
        pos += n;
        if (this.have === this.need) this.onHeader();
      }
    }
  }

  private resetHeader(): void {
    this.state = ParseState.Header;
    this.have = 0;
    this.need = 4;
    this.chunk = undefined;
    this.dataTarget = undefined;
  }

  private lookup(): Pending | undefined {
    const high = this.head.readUInt32BE(8);
    const cookie = this.head.readUInt32BE(12);
    const p = high === 0 ? this.pending.get(cookie) : undefined;
    if (!p) this.protocolFailure('reply for an unknown cookie', { cookieHigh: high, cookieLow: cookie });
    return p;
  }

  private onHeader(): void {
    if (this.need === 4) {
      const magic = this.head.readUInt32BE(0);
      if (magic === SIMPLE_REPLY_MAGIC) this.need = 16;
      else if (magic === STRUCTURED_REPLY_MAGIC) this.need = 20;
      else this.protocolFailure('bad reply magic', { magic });
      return;
    }
    if (this.need === 16) {
      const p = this.lookup();
      if (!p) return;
      const errno = this.head.readUInt32BE(4);
      if (errno !== 0) {
        p.error = new NbdRequestError(commandName(p.command), errno, '', p.offset, p.length);
      } else if (p.command === NbdCommand.READ && p.length > 0) {
        // Forbidden once structured replies are on, but its meaning is clear: the data follows.
        this.chunk = p;
        this.chunkFlags = ReplyFlag.DONE;
        p.received = p.length;
        this.startData(p.target, 0, p.length);
        return;
      }
      this.resetHeader();
      this.complete(p);
      return;
    }
    if (this.need === 20) {
      const p = this.lookup();
      if (!p) return;
      this.chunk = p;
      this.chunkFlags = this.head.readUInt16BE(4);
      this.chunkType = this.head.readUInt16BE(6);
      const length = this.head.readUInt32BE(16);
      if (this.chunkType === ReplyType.OFFSET_DATA) {
        if (length <= 8) {
          this.protocolFailure('OFFSET_DATA chunk without data', { length });
          return;
        }
        this.remaining = length - 8;
        this.need = 28;
        return;
      }
      if (length > MAX_CONTROL_PAYLOAD_BYTES) {
        this.protocolFailure('reply chunk too large', { type: this.chunkType, length });
        return;
      }
      if (length === 0) {
        this.onPayload(Buffer.alloc(0));
        return;
      }
      this.payload = Buffer.allocUnsafe(length);
      this.remaining = length;
      this.state = ParseState.Payload;
      return;
    }
    // need === 28: the offset of an OFFSET_DATA chunk.
    const p = this.chunk;
    const dataOffset = readU64(this.head, 20);
    if (!p) return;
    if (p.command !== NbdCommand.READ || !p.target || dataOffset === undefined) {
      this.protocolFailure('OFFSET_DATA chunk for a request that reads nothing', { command: p.command });
      return;
    }
    if (dataOffset < p.offset || dataOffset + this.remaining > p.offset + p.length) {
      this.protocolFailure('OFFSET_DATA outside the request', { dataOffset, dataLength: this.remaining, offset: p.offset });
      return;
    }
    p.received += this.remaining;
    this.startData(p.target, dataOffset - p.offset, this.remaining);
  }

  private startData(target: Buffer | undefined, at: number, length: number): void {
    this.dataTarget = target;
    this.dataAt = at;
    this.remaining = length;
    this.state = ParseState.Data;
  }

  private endData(): void {
    const p = this.chunk;
    const done = (this.chunkFlags & ReplyFlag.DONE) !== 0;
    this.resetHeader();
    if (p && done) this.complete(p);
  }

  private onPayload(payload: Buffer): void {
    const p = this.chunk;
    const type = this.chunkType;
    const done = (this.chunkFlags & ReplyFlag.DONE) !== 0;
    this.resetHeader();
    if (!p) return;
    if (type === ReplyType.NONE) {
      if (payload.length !== 0 || !done) return this.protocolFailure('malformed NONE chunk');
    } else if (type === ReplyType.OFFSET_HOLE) {
      if (payload.length !== 12 || p.command !== NbdCommand.READ || !p.target) {
        return this.protocolFailure('malformed OFFSET_HOLE chunk', { command: p.command });
      }
      const holeOffset = readU64(payload, 0) ?? -1;
      const holeLength = payload.readUInt32BE(8);
      if (holeOffset < p.offset || holeOffset + holeLength > p.offset + p.length) {
        return this.protocolFailure('OFFSET_HOLE outside the request', { holeOffset, holeLength, offset: p.offset });
      }
      p.target.fill(0, holeOffset - p.offset, holeOffset - p.offset + holeLength);
      p.received += holeLength;
    } else if (type === ReplyType.BLOCK_STATUS) {
      const decoded = p.command === NbdCommand.BLOCK_STATUS ? decodeBlockStatus(payload, p.offset) : undefined;
      if (!decoded || !this.contextNames.has(decoded.contextId)) {
        p.error ??= new NbdProtocolError('malformed BLOCK_STATUS chunk', { command: p.command, offset: p.offset });
      } else {
        p.statuses ??= new Map();
        p.statuses.set(decoded.contextId, decoded.extents);
      }
    } else if ((type & REPLY_TYPE_ERROR_BIT) !== 0) {
      const e = decodeErrorPayload(type, payload);
      p.error ??= new NbdRequestError(
        commandName(p.command),
        e?.errno ?? 22,
        e?.message ?? `error chunk of type ${type}`,
        p.offset,
        p.length,
        e?.offset,
      );
    } else {
      return this.protocolFailure('unknown reply chunk type', { type });
    }
    if (done) this.complete(p);
  }
}

interface HandshakeResult {
  readonly sizeBytes: number;
  readonly flags: number;
  readonly blockSize: BlockSizeConstraints;
  readonly contexts: Map<string, number>;
}

async function handshake(
  socket: Socket,
  reader: HandshakeReader,
  exportName: string,
  metaContexts: readonly string[],
): Promise<HandshakeResult> {
  const greeting = await reader.read(18);
  if (greeting.readBigUInt64BE(0) !== NBD_MAGIC) throw new NbdHandshakeError('greeting', 'not an NBD server', '');
  const second = greeting.readBigUInt64BE(8);
  if (second === OLDSTYLE_MAGIC) throw new NbdHandshakeError('greeting', 'oldstyle negotiation', 'not supported');
  if (second !== IHAVEOPT) throw new NbdHandshakeError('greeting', 'not an NBD server', '');
  const serverFlags = greeting.readUInt16BE(16);
  if ((serverFlags & HandshakeFlag.FIXED_NEWSTYLE) === 0) {
    throw new NbdHandshakeError('greeting', 'no fixed newstyle', 'the server lacks NBD_FLAG_FIXED_NEWSTYLE');
  }
  const clientFlags = Buffer.allocUnsafe(4);
  clientFlags.writeUInt32BE(HandshakeFlag.FIXED_NEWSTYLE | (serverFlags & HandshakeFlag.NO_ZEROES), 0);
  socket.write(clientFlags);
  reader.negotiating = true;

  const option = async (opt: number, data: Buffer, onReply: (type: number, payload: Buffer) => void): Promise<void> => {
    socket.write(encodeOption(opt, data));
    for (;;) {
      const header = decodeOptionReplyHeader(await reader.read(20));
      if (!header || header.option !== opt) throw new NbdProtocolError('bad option reply', { option: optionName(opt) });
      if (header.length > MAX_CONTROL_PAYLOAD_BYTES) throw new NbdProtocolError('option reply too large', { length: header.length });
      const payload = header.length > 0 ? await reader.read(header.length) : Buffer.alloc(0);
      if (header.type === NbdOptionReply.ACK) return;
      if (isOptionReplyError(header.type)) {
        const message = payload.toString('utf8');
        if (header.type === NbdOptionReply.ERR_UNKNOWN) throw new NbdExportNotFoundError(exportName, message);
        throw new NbdHandshakeError(optionName(opt), optionReplyName(header.type), message);
      }
      onReply(header.type, payload);
    }
  };

  await option(NbdOption.STRUCTURED_REPLY, Buffer.alloc(0), () => undefined);

  const contexts = new Map<string, number>();
  if (metaContexts.length > 0) {
    await option(NbdOption.SET_META_CONTEXT, encodeMetaContextData(exportName, metaContexts), (type, payload) => {
      const ctx = type === NbdOptionReply.META_CONTEXT ? decodeMetaContext(payload) : undefined;
      if (ctx) contexts.set(ctx.name, ctx.id);
    });
    const missing = metaContexts.filter((name) => !contexts.has(name));
    if (missing.length > 0) throw new NbdMetaContextError(exportName, missing, [...contexts.keys()]);
  }

  let exportInfo: { sizeBytes: number; flags: number } | undefined;
  let blockSize = DEFAULT_BLOCK_SIZE;
  await option(NbdOption.GO, encodeGoData(exportName, [NbdInfo.BLOCK_SIZE]), (type, payload) => {
    if (type !== NbdOptionReply.INFO) return;
    const info = decodeInfo(payload);
    if (info === undefined) throw new NbdProtocolError('malformed NBD_REP_INFO', { length: payload.length });
    if (info.kind === 'export') exportInfo = { sizeBytes: info.sizeBytes, flags: info.flags };
    else if (info.kind === 'block-size') blockSize = info.constraints;
  });
  reader.negotiating = false;
  if (!exportInfo) throw new NbdProtocolError('NBD_OPT_GO acknowledged without NBD_INFO_EXPORT');
  return { ...exportInfo, blockSize, contexts };
}

function decodeFlags(flags: number): NbdExportFlags {
  const has = (bit: number): boolean => (flags & TransmissionFlag.HAS_FLAGS) !== 0 && (flags & bit) !== 0;
  return {
    readOnly: has(TransmissionFlag.READ_ONLY),
    canFlush: has(TransmissionFlag.SEND_FLUSH),
    canFua: has(TransmissionFlag.SEND_FUA),
    rotational: has(TransmissionFlag.ROTATIONAL),
    canTrim: has(TransmissionFlag.SEND_TRIM),
    canWriteZeroes: has(TransmissionFlag.SEND_WRITE_ZEROES),
    canDf: has(TransmissionFlag.SEND_DF),
    canMultiConn: has(TransmissionFlag.CAN_MULTI_CONN),
    canCache: has(TransmissionFlag.SEND_CACHE),
    canFastZero: has(TransmissionFlag.SEND_FAST_ZERO),
  };
}

function uniq(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/** Waits for every part (so no part still writes into a caller's buffer), then throws the first failure. */
async function settleAll(parts: readonly Promise<Pending>[]): Promise<void> {
  const results = await Promise.allSettled(parts);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Buffers handshake bytes and hands them out in exact sizes. */
class HandshakeReader {
  negotiating = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: Error | undefined;
  private waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;

  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.buffered += buf.length;
    this.pump();
  }

  /** The first failure wins; a read in progress rejects with it. */
  fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }

  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.pump();
    });
  }

  /** Whatever arrived past the handshake. */
  takeRest(): Buffer {
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.buffered >= w.n) {
      this.waiter = undefined;
      const all = this.chunks.length === 1 ? (this.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.chunks);
      this.chunks = all.length > w.n ? [all.subarray(w.n)] : [];
      this.buffered = all.length - w.n;
      w.resolve(all.subarray(0, w.n));
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }
}
