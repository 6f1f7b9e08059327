/**
 * A QEMU guest agent (QGA) client over the unix socket of QEMU's virtio-serial chardev, on node:net.
 *
 * Protocol: the client sends `{"execute","arguments"}` objects; qemu-ga answers each with one
 * `{"return"}` or `{"error":{"class","desc"}}` object, in order. There is no greeting and no
 * request id, and the channel outlives its clients: bytes an earlier client left behind (a half
 * request, unread replies) may still be in it, and before qemu-ga runs in the guest nothing answers
 * at all. So every connection starts with a sync: the client sends a 0xFF byte (resets the agent's
 * JSON parser) and `guest-sync-delimited` with a fresh random id, re-sent every second, and skips
 * every byte up to a 0xFF sentinel followed by `{"return": <latest id>}`. Commands then run one at a
 * time. A command that times out still has its reply coming, so the next command syncs again first.
 *
 * QEMU serves one client at a time per chardev socket: a second client's connect succeeds but is
 * never answered (QgaUnavailableError after the deadline). Hold one QgaClient per VM and close it.
 */
import { randomInt } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { errorMessage } from '../../../shared/errors.js';
import {
  QgaCommandError,
  QgaDisconnectedError,
  QgaProtocolError,
  QgaTimeoutError,
  QgaUnavailableError,
} from './qga-errors.js';

export interface QgaConnectOptions {
  /** Deadline for the socket connect and the first sync together: how long qemu-ga may take to answer. */
  readonly timeoutMs: number;
  /** Interval between guest-sync-delimited re-sends while nothing answers; 1000 ms when not given. */
  readonly syncIntervalMs?: number;
  /** Default deadline of a command (queue wait and any resync included); 30 s when not given. */
  readonly commandTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface QgaCommandOptions {
  /** Deadline from the call; the connection's default when not given. */
  readonly timeoutMs?: number;
}

export interface QgaExecOptions {
  /** Collect stdout and stderr (qemu-ga keeps at most 16 MiB of each); true when not given. */
  readonly captureOutput?: boolean;
  /** Deadline for the process to exit, from the call; the connection's command default when not given. */
  readonly timeoutMs?: number;
  /** Environment of the process as NAME=value entries (replaces qemu-ga's environment). */
  readonly env?: readonly string[];
  /** Bytes written to the process's stdin. */
  readonly input?: Uint8Array;
}

/** How a process run with guest-exec ended. */
export interface QgaExecResult {
  readonly pid: number;
  /** The exit code, when the process exited on its own. */
  readonly exitCode: number | undefined;
  /** The signal number, when a signal ended the process. */
  readonly signal: number | undefined;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
}

/** guest-fsfreeze-status: whether the guest's filesystems are frozen. */
export type QgaFreezeStatus = 'thawed' | 'frozen';

/** The arguments object of a command. */
export type QgaArguments = Readonly<Record<string, unknown>>;

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_SYNC_INTERVAL_MS = 1000;
const EXEC_POLL_MAX_MS = 200;
const SENTINEL = 0xff;
// guest-exec output is capped at 16 MiB per stream by qemu-ga; base64 of both fits in 64 MiB.
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const Reply = z.union([
  z.object({ return: z.unknown() }),
  z.object({ error: z.object({ class: z.string(), desc: z.string() }) }),
]);
const FreezeStatus = z.enum(['thawed', 'frozen']);
const FilesystemCount = z.number().int().nonnegative();
const ExecStarted = z.object({ pid: z.number().int() });
const ExecStatus = z.object({
  exited: z.boolean(),
  exitcode: z.number().int().optional(),
  signal: z.number().int().optional(),
  'out-data': z.string().optional(),
  'err-data': z.string().optional(),
  'out-truncated': z.boolean().optional(),
  'err-truncated': z.boolean().optional(),
});

/** What the reader does with incoming bytes. */
type Mode =
  /** Nothing is expected (or a timed-out reply may still come): drop everything. */
  | 'discard'
  /** Skip to a 0xFF sentinel, then look for `{"return": syncId}`. */
  | 'sync'
  /** In step with the agent: each object answers the command in flight. */
  | 'reply'
  | 'closed';

interface PendingReply {
  readonly resolve: (message: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface SyncWaiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A connection to one guest's qemu-ga: typed commands, run one at a time. */
export class QgaClient {
  readonly socketPath: string;

  private readonly socket: Socket;
  private readonly logger: Logger | undefined;
  private readonly commandTimeoutMs: number;
  private readonly syncIntervalMs: number;
  private readonly socketClosed: Promise<void>;
  private mode: Mode = 'discard';
  private failure: QgaDisconnectedError | undefined;
  private lastSocketError: Error | undefined;
  private syncId = 0;
  private syncWaiter: SyncWaiter | undefined;
  private pending: PendingReply | undefined;
  private needsSync = true;
  private chain: Promise<void> = Promise.resolve();
  // Incoming bytes not consumed yet: data[0, length). The scan state carries over between chunks,
  // so a large reply arriving in pieces is scanned once.
  private data = Buffer.alloc(16 * 1024);
  private length = 0;
  private afterSentinel = false;
  private scanPos = 0;
  private objectStart = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;

  private constructor(socket: Socket, socketPath: string, options: QgaConnectOptions) {
    this.socket = socket;
    this.socketPath = socketPath;
    this.logger = options.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => (this.lastSocketError = err));
    socket.on('close', () => {
      const cause = this.lastSocketError;
      const reason = cause === undefined ? 'connection closed by peer' : `socket error: ${errorMessage(cause)}`;
      this.fail(new QgaDisconnectedError(this.socketPath, reason, { cause }));
    });
  }

  /**
   * Connects to a QGA chardev socket and syncs with the agent, re-sending guest-sync-delimited until
   * it answers. QgaUnavailableError if the socket fails or nothing answers within `timeoutMs`.
   */
  static async connect(socketPath: string, options: QgaConnectOptions): Promise<QgaClient> {
    const startedAt = performance.now();
    const socket = await openUnixSocket(socketPath, options.timeoutMs);
    const client = new QgaClient(socket, socketPath, options);
    try {
      await client.sync(options.timeoutMs - (performance.now() - startedAt), startedAt);
    } catch (err) {
      await client.close();
      if (err instanceof QgaDisconnectedError) {
        throw new QgaUnavailableError(socketPath, `connection lost before the agent answered: ${err.reason}`, performance.now() - startedAt, { cause: err });
      }
      throw err;
    }
    return client;
  }

  /** True until the connection is lost or closed. */
  get connected(): boolean {
    return this.mode !== 'closed';
  }

  /** guest-ping: resolves once the agent answers. */
  async ping(options: QgaCommandOptions = {}): Promise<void> {
    await this.execute('guest-ping', undefined, z.unknown(), options);
  }

  /** guest-fsfreeze-status. */
  fsfreezeStatus(options: QgaCommandOptions = {}): Promise<QgaFreezeStatus> {
    return this.execute('guest-fsfreeze-status', undefined, FreezeStatus, options);
  }

  /**
   * guest-fsfreeze-freeze: runs the guest's fsfreeze hooks with `freeze`, then freezes every
   * mounted filesystem; resolves with how many were frozen. After a timeout the guest may still end
   * up frozen: call fsfreezeThaw.
   */
  fsfreezeFreeze(options: QgaCommandOptions = {}): Promise<number> {
    return this.execute('guest-fsfreeze-freeze', undefined, FilesystemCount, options);
  }

  /** guest-fsfreeze-thaw: thaws, then runs the hooks with `thaw`; resolves with how many filesystems were thawed. */
  fsfreezeThaw(options: QgaCommandOptions = {}): Promise<number> {
    return this.execute('guest-fsfreeze-thaw', undefined, FilesystemCount, options);
  }

  /**
   * Runs a program in the guest (guest-exec, then guest-exec-status until it exits) and returns its
   * exit status and decoded output. Refused (QgaCommandError, class CommandNotFound) while frozen.
   * QgaTimeoutError kind 'exec' if it has not exited by the deadline; the process keeps running.
   */
  async exec(path: string, args: readonly string[] = [], options: QgaExecOptions = {}): Promise<QgaExecResult> {
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    const started = await this.execute(
      'guest-exec',
      {
        path,
        arg: [...args],
        'capture-output': options.captureOutput ?? true,
        ...(options.env === undefined ? {} : { env: [...options.env] }),
        ...(options.input === undefined ? {} : { 'input-data': Buffer.from(options.input).toString('base64') }),
      },
      ExecStarted,
      { timeoutMs },
    );
    let pollMs = 5;
    for (;;) {
      const status = await this.execute('guest-exec-status', { pid: started.pid }, ExecStatus, {});
      if (status.exited) {
        return {
          pid: started.pid,
          exitCode: status.exitcode,
          signal: status.signal,
          stdout: Buffer.from(status['out-data'] ?? '', 'base64'),
          stderr: Buffer.from(status['err-data'] ?? '', 'base64'),
          stdoutTruncated: status['out-truncated'] ?? false,
          stderrTruncated: status['err-truncated'] ?? false,
        };
      }
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) throw new QgaTimeoutError('exec', path, timeoutMs, this.socketPath);
      await delay(Math.min(pollMs, remainingMs));
      pollMs = Math.min(pollMs * 2, EXEC_POLL_MAX_MS);
    }
  }

  /**
   * Runs any command that has a reply and checks its `return` value against `returns`.
   * QgaCommandError for an error reply, QgaTimeoutError past the deadline, QgaDisconnectedError if
   * the connection ends first, QgaProtocolError for a reply of the wrong shape.
   */
  execute<T>(command: string, args: QgaArguments | undefined, returns: z.ZodType<T>, options: QgaCommandOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const deadline = performance.now() + timeoutMs;
    return this.serialize(async () => {
      if (this.failure !== undefined) throw this.disconnected();
      if (this.needsSync) {
        const startedAt = performance.now();
        await this.sync(deadline - startedAt, startedAt);
      }
      const message = await this.request(command, args, deadline - performance.now(), timeoutMs);
      const reply = Reply.safeParse(message);
      if (!reply.success) {
        throw new QgaProtocolError(this.socketPath, `reply to ${command} is neither return nor error: ${JSON.stringify(message).slice(0, 200)}`);
      }
      if ('error' in reply.data) throw new QgaCommandError(command, reply.data.error.class, reply.data.error.desc);
      const value = returns.safeParse(reply.data.return);
      if (!value.success) {
        throw new QgaProtocolError(this.socketPath, `reply to ${command} has an unexpected shape: ${value.error.message}`);
      }
      return value.data;
    });
  }

  /** Ends the connection; commands in progress reject with QgaDisconnectedError. */
  async close(): Promise<void> {
    this.fail(new QgaDisconnectedError(this.socketPath, 'closed by client'));
    await this.socketClosed;
  }

  private serialize<T>(run: () => Promise<T>): Promise<T> {
    const result = this.chain.then(run, run);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Sends guest-sync-delimited with a fresh id every interval until the latest one is answered. */
  private sync(timeoutMs: number, startedAt: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.disconnected());
        return;
      }
      this.mode = 'sync';
      this.afterSentinel = false;
      this.resetScan();
      const finish = () => {
        clearInterval(interval);
        clearTimeout(timer);
        this.syncWaiter = undefined;
      };
      const send = () => {
        this.syncId = randomInt(1, 2 ** 47);
        const request = JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id: this.syncId } });
        this.socket.write(Buffer.concat([Buffer.of(SENTINEL), Buffer.from(`${request}\n`)]));
      };
      const interval = setInterval(send, this.syncIntervalMs);
      const timer = setTimeout(
        () => {
          finish();
          this.mode = 'discard';
          const waitedMs = Math.round(performance.now() - startedAt);
          reject(new QgaUnavailableError(this.socketPath, `no answer to guest-sync-delimited within ${waitedMs} ms`, waitedMs));
        },
        Math.max(0, timeoutMs),
      );
      this.syncWaiter = {
        resolve: () => {
          finish();
          this.needsSync = false;
          this.logger?.debug({ socketPath: this.socketPath, durationMs: Math.round(performance.now() - startedAt) }, 'QGA synced');
          resolve();
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      };
      send();
    });
  }

  private request(command: string, args: QgaArguments | undefined, remainingMs: number, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.disconnected());
        return;
      }
      const timer = setTimeout(
        () => {
          // The reply may still come: drop everything until the next command has synced again.
          this.pending = undefined;
          this.mode = 'discard';
          this.needsSync = true;
          this.length = 0;
          this.resetScan();
          reject(new QgaTimeoutError('command', command, timeoutMs, this.socketPath));
        },
        Math.max(0, remainingMs),
      );
      this.pending = {
        resolve: (message) => {
          clearTimeout(timer);
          this.pending = undefined;
          resolve(message);
        },
        reject: (err) => {
          clearTimeout(timer);
          this.pending = undefined;
          reject(err);
        },
      };
      const message = args === undefined ? { execute: command } : { execute: command, arguments: args };
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  private onData(chunk: Buffer): void {
    if (this.mode === 'discard' || this.mode === 'closed') return;
    if (this.length + chunk.length > this.data.length) {
      const grown = Buffer.alloc(Math.max(this.data.length * 2, this.length + chunk.length));
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
    }
    chunk.copy(this.data, this.length);
    this.length += chunk.length;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      if (this.mode === 'discard' || this.mode === 'closed') {
        this.length = 0;
        this.resetScan();
        return;
      }
      if (this.mode === 'sync' && !this.afterSentinel) {
        const at = this.data.subarray(0, this.length).indexOf(SENTINEL);
        if (at < 0) {
          this.consume(this.length);
          return;
        }
        this.consume(at + 1);
        this.afterSentinel = true;
      }
      const found = this.scan();
      if (found === 'incomplete') {
        if (this.length > MAX_MESSAGE_BYTES) this.failProtocol(`reply longer than ${MAX_MESSAGE_BYTES} bytes`);
        return;
      }
      if (typeof found === 'number') {
        if (this.mode === 'reply') {
          this.failProtocol(`not a JSON object at byte 0x${(this.data[found] ?? 0).toString(16)}`);
          return;
        }
        // Stale bytes while syncing: look for the next sentinel from the offending byte on.
        this.consume(found);
        this.afterSentinel = false;
        continue;
      }
      const text = this.data.toString('utf8', found.start, found.end);
      this.consume(found.end);
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch (err) {
        if (this.mode === 'reply') {
          this.failProtocol(`not JSON: ${text.slice(0, 200)}`, err);
          return;
        }
        this.afterSentinel = false;
        continue;
      }
      if (this.mode === 'sync') {
        this.afterSentinel = false;
        if (isSyncReply(message, this.syncId)) {
          this.mode = 'reply';
          this.syncWaiter?.resolve();
        }
        continue;
      }
      const pending = this.pending;
      if (pending === undefined) {
        this.failProtocol(`reply to no command in flight: ${text.slice(0, 200)}`);
        return;
      }
      pending.resolve(message);
    }
  }

  /**
   * Continues scanning data[scanPos, length) for one JSON object (leading whitespace skipped):
   * its extent once complete, 'incomplete', or the offset of a byte that cannot be part of it.
   */
  private scan(): { start: number; end: number } | 'incomplete' | number {
    const data = this.data;
    for (let i = this.scanPos; i < this.length; i++) {
      const c = data[i] ?? 0;
      if (c === SENTINEL) return i;
      if (this.objectStart < 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b) return i;
        this.objectStart = i;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        this.depth++;
      } else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) return { start: this.objectStart, end: i + 1 };
      }
    }
    this.scanPos = this.length;
    return 'incomplete';
  }

  private consume(bytes: number): void {
    this.data.copyWithin(0, bytes, this.length);
    this.length -= bytes;
    this.resetScan();
  }

  private resetScan(): void {
    this.scanPos = 0;
    this.objectStart = -1;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private failProtocol(problem: string, cause?: unknown): void {
    const error = new QgaProtocolError(this.socketPath, problem, cause === undefined ? {} : { cause });
    this.fail(new QgaDisconnectedError(this.socketPath, `protocol error: ${problem}`, { cause: error }));
  }

  /** Ends the connection once; whatever is waiting rejects with `error`. */
  private fail(error: QgaDisconnectedError): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.failure = error;
    this.length = 0;
    this.pending?.reject(error);
    this.syncWaiter?.reject(error);
    this.socket.destroy();
  }

  private disconnected(): QgaDisconnectedError {
    const failure = this.failure;
    if (failure === undefined) throw new Error('disconnected() called on a live connection');
    return new QgaDisconnectedError(this.socketPath, failure.reason, { cause: failure.cause });
  }
}

function isSyncReply(message: unknown, id: number): boolean {
  return typeof message === 'object' && message !== null && 'return' in message && message.return === id;
}

function openUnixSocket(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new QgaUnavailableError(socketPath, `cannot connect: ${err.code ?? err.message}`, 0, { cause: err }));
    };
    const timer = setTimeout(() => {
      socket.off('error', onError);
      socket.destroy();
      reject(new QgaUnavailableError(socketPath, `socket connect timed out after ${timeoutMs} ms`, timeoutMs));
    }, timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
