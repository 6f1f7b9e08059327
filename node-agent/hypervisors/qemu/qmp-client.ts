/**
 * A QMP (QEMU Machine Protocol) client over a unix socket, written on node:net.
 *
 * Framing: one JSON object per line (QEMU ends lines with \r\n). The server opens with a greeting
 * `{"QMP":{version,capabilities}}`; the client answers `qmp_capabilities` and may then send commands
 * `{"execute","arguments","id"}`. Replies `{"return"|"error","id"}` come back in order; events
 * `{"event","data","timestamp"}` may interleave anywhere. Commands wait in a queue and at most
 * `maxInFlight` are on the wire. Losing the connection rejects everything pending with
 * QmpDisconnectedError and resolves `closed`.
 */
import { createConnection, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CancelledError, errorMessage } from '../../../shared/errors.js';
import {
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
} from './qmp-errors.js';

/** The server's greeting. */
export interface QmpGreeting {
  readonly version: {
    readonly qemu: { readonly major: number; readonly minor: number; readonly micro: number };
    readonly package: string;
  };
  readonly capabilities: readonly string[];
}

/** An asynchronous event sent by QEMU (JOB_STATUS_CHANGE, BLOCK_JOB_CANCELLED, ...). */
export interface QmpEvent {
  readonly event: string;
  /** The event's payload; `{}` for events that carry none. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export interface QmpConnectOptions {
  /** Deadline for the socket connect, the greeting and `qmp_capabilities` together. */
  readonly timeoutMs: number;
  /** Default deadline of execute() (queue wait included); 30 s when not given. */
  readonly commandTimeoutMs?: number;
  /** Commands on the wire at once; 1 when not given. */
  readonly maxInFlight?: number;
  readonly logger?: Logger;
}

export interface QmpExecuteOptions<T> {
  /** Deadline from the call (queue wait included); the connection default when not given. */
  readonly timeoutMs?: number;
  /** Checks the `return` value; a mismatch rejects this command with QmpProtocolError. Without it T is unchecked. */
  readonly returns?: z.ZodType<T>;
}

export interface QmpWaitOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** The arguments object of a command. */
export type QmpArguments = Readonly<Record<string, unknown>>;

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
// A reply larger than this is not QMP as we know it; without a bound a broken peer could exhaust memory.
const MAX_LINE_CHARS = 64 * 1024 * 1024;

const GreetingMessage = z.object({
  QMP: z.object({
    version: z.object({
      qemu: z.object({ major: z.number().int(), minor: z.number().int(), micro: z.number().int() }),
      package: z.string(),
    }),
    capabilities: z.array(z.string()),
  }),
});
const ReturnMessage = z.object({ return: z.unknown(), id: z.unknown().optional() });
const ErrorMessage = z.object({
  error: z.object({ class: z.string(), desc: z.string() }),
  id: z.unknown().optional(),
});
const EventMessage = z.object({
  event: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
  timestamp: z.object({ seconds: z.number(), microseconds: z.number() }),
});

interface PendingCommand {
  readonly id: number;
  readonly command: string;
  readonly line: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly parse: ((value: unknown) => { ok: true; value: unknown } | { ok: false; problem: string }) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** True once the caller got an answer (reply, timeout, disconnect); a late reply is then dropped. */
  settled: boolean;
}

interface EventWaiter {
  readonly name: string;
  readonly predicate: (event: QmpEvent) => boolean;
  readonly resolve: (event: QmpEvent) => void;
  readonly reject: (err: Error) => void;
}

type State = 'greeting' | 'ready' | 'closed';

/** A QMP connection: commands through a queue, events to listeners and waiters. */
export class QmpClient {
  readonly socketPath: string;
  /** Resolves once the connection is over: with the error that ended it, or undefined after close(). */
  readonly closed: Promise<QmpDisconnectedError | undefined>;

  private readonly socket: Socket;
  private readonly logger: Logger | undefined;
  private readonly commandTimeoutMs: number;
  private readonly maxInFlight: number;
  private state: State = 'greeting';
  private failure: QmpDisconnectedError | undefined;
  private buffer = '';
  private nextId = 1;
  private readonly queue: PendingCommand[] = [];
  // Insertion order is wire order; an entry stays until its reply arrives, even after a timeout,
  // so the in-flight bound counts what QEMU is really working on.
  private readonly inFlight = new Map<number, PendingCommand>();
  private readonly waiters = new Set<EventWaiter>();
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private greetingValue: QmpGreeting | undefined;
  private readonly greetingReceived: Promise<QmpGreeting>;
  private resolveGreeting: (greeting: QmpGreeting) => void = () => undefined;
  private rejectGreeting: (err: Error) => void = () => undefined;
  private resolveClosed: (reason: QmpDisconnectedError | undefined) => void = () => undefined;
  private readonly socketClosed: Promise<void>;
  private lastSocketError: Error | undefined;

  private constructor(socket: Socket, socketPath: string, options: QmpConnectOptions) {
    this.socket = socket;
    this.socketPath = socketPath;
    this.logger = options.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.greetingReceived = new Promise((resolve, reject) => {
      this.resolveGreeting = resolve;
      this.rejectGreeting = reject;
    });
    void this.greetingReceived.catch(() => undefined);
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => (this.lastSocketError = err));
    socket.on('close', () => {
      const cause = this.lastSocketError;
      const reason = cause === undefined ? 'connection closed by peer' : `socket error: ${errorMessage(cause)}`;
      this.fail(new QmpDisconnectedError(this.socketPath, reason, { cause }));
    });
  }

  /** Connects to a QMP unix socket, reads the greeting and leaves capabilities negotiation. */
  static async connect(socketPath: string, options: QmpConnectOptions): Promise<QmpClient> {
    const maxInFlight = options.maxInFlight ?? 1;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be an integer >= 1');
    const startedAt = performance.now();
    const socket = await openUnixSocket(socketPath, options.timeoutMs);
    const client = new QmpClient(socket, socketPath, options);
    try {
      await client.handshake(options.timeoutMs - (performance.now() - startedAt), options.timeoutMs);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  /** The greeting QEMU sent (version and capabilities). */
  get greeting(): QmpGreeting {
    if (this.greetingValue === undefined) throw new Error('QMP greeting read before connect() finished');
    return this.greetingValue;
  }

  /** True until the connection is lost or closed. */
  get connected(): boolean {
    return this.state !== 'closed';
  }

  /**
   * Runs a command and resolves with its `return` value. QmpCommandError for a QMP error reply,
   * QmpTimeoutError past the deadline, QmpDisconnectedError if the connection ends first.
   */
  execute<T = unknown>(command: string, args?: QmpArguments, options: QmpExecuteOptions<T> = {}): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.disconnected());
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const schema = options.returns;
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      const entry: PendingCommand = {
        id,
        command,
        line: `${JSON.stringify(message)}\n`,
        resolve: (value) => resolve(value as T),
        reject,
        parse:
          schema === undefined
            ? undefined
            : (value) => {
                const result = schema.safeParse(value);
                return result.success ? { ok: true, value: result.data } : { ok: false, problem: result.error.message };
              },
        timer: undefined,
        settled: false,
      };
      entry.timer = setTimeout(() => this.timeOut(entry, timeoutMs), timeoutMs);
      this.queue.push(entry);
      this.pump();
    });
  }

  /** Calls `listener` for every event until the returned function is called. Listeners must not throw. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with the first event named `name` that satisfies `predicate`. The wait is armed when
   * this is called, so call it BEFORE the command that causes the event and await it after.
   * Rejects with QmpTimeoutError, CancelledError (signal) or QmpDisconnectedError. An abandoned
   * wait that later rejects does not count as an unhandled rejection.
   */
  waitForEvent(name: string, predicate: (event: QmpEvent) => boolean, options: QmpWaitOptions): Promise<QmpEvent> {
    const promise = new Promise<QmpEvent>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.disconnected());
        return;
      }
      const signal = options.signal;
      if (signal?.aborted === true) {
        reject(new CancelledError(`wait for QMP event ${name} aborted`));
        return;
      }
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
      };
      const onAbort = () => {
        finish();
        reject(new CancelledError(`wait for QMP event ${name} aborted`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new QmpTimeoutError('event', name, options.timeoutMs, this.socketPath));
      }, options.timeoutMs);
      const waiter: EventWaiter = {
        name,
        predicate,
        resolve: (event) => {
          finish();
          resolve(event);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
    void promise.catch(() => undefined);
    return promise;
  }

  /** Ends the connection: pending commands and waits reject with QmpDisconnectedError; `closed` resolves undefined. */
  async close(): Promise<void> {
    if (this.state !== 'closed') {
      this.fail(new QmpDisconnectedError(this.socketPath, 'closed by client'), true);
    }
    await this.socketClosed;
  }

  private async handshake(remainingMs: number, timeoutMs: number): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        this.fail(new QmpDisconnectedError(this.socketPath, 'handshake timed out'));
      },
      Math.max(0, remainingMs),
    );
    try {
      const greeting = await this.greetingReceived;
      this.greetingValue = greeting;
      this.state = 'ready';
      // The outer timer is the deadline; this one only has to be later.
      await this.execute('qmp_capabilities', undefined, { timeoutMs: Math.max(0, remainingMs) + 1000 });
    } catch (err) {
      if (timedOut) {
        // A second client on a QEMU monitor is accepted by the kernel but gets no greeting.
        throw new QmpTimeoutError('connect', 'greeting and qmp_capabilities (is another client connected?)', timeoutMs, this.socketPath);
      }
      if (err instanceof QmpDisconnectedError) {
        if (err.cause instanceof QmpProtocolError) throw err.cause;
        throw new QmpConnectError(this.socketPath, `connection lost during the handshake: ${err.reason}`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    while (this.state === 'ready' && this.inFlight.size < this.maxInFlight) {
      const entry = this.queue.shift();
      if (entry === undefined) return;
      this.inFlight.set(entry.id, entry);
      this.socket.write(entry.line);
    }
  }

  private timeOut(entry: PendingCommand, timeoutMs: number): void {
    if (entry.settled) return;
    entry.settled = true;
    const queued = this.queue.indexOf(entry);
    if (queued >= 0) this.queue.splice(queued, 1);
    entry.reject(new QmpTimeoutError('command', entry.command, timeoutMs, this.socketPath));
  }

  private onData(chunk: string): void {
    if (this.state === 'closed') return;
    this.buffer += chunk;
    let start = 0;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n', start)) {
      const line = this.buffer.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') this.onLine(line);
      if (this.failure !== undefined) return;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > MAX_LINE_CHARS) this.failProtocol(`line longer than ${MAX_LINE_CHARS} characters`);
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (err) {
      this.failProtocol(`not JSON: ${line.slice(0, 200)}`, err);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.failProtocol(`not a JSON object: ${line.slice(0, 200)}`);
      return;
    }
    if (this.state === 'greeting') {
      const greeting = GreetingMessage.safeParse(message);
      if (greeting.success) this.resolveGreeting(greeting.data.QMP);
      else this.failProtocol(`expected the greeting, got: ${line.slice(0, 200)}`, greeting.error);
      return;
    }
    if ('event' in message) this.onEventMessage(message, line);
    else if ('return' in message) this.onReturn(message, line);
    else if ('error' in message) this.onError(message, line);
    else this.failProtocol(`unknown message: ${line.slice(0, 200)}`);
  }

  private onEventMessage(message: object, line: string): void {
    const parsed = EventMessage.safeParse(message);
    if (!parsed.success) {
      this.failProtocol(`malformed event: ${line.slice(0, 200)}`, parsed.error);
      return;
    }
    const event: QmpEvent = { event: parsed.data.event, data: parsed.data.data ?? {}, timestamp: parsed.data.timestamp };
    for (const waiter of [...this.waiters]) {
      if (waiter.name !== event.event) continue;
      let matches: boolean;
      try {
        matches = waiter.predicate(event);
      } catch (err) {
        waiter.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (matches) waiter.resolve(event);
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger?.error({ err, event: event.event }, 'QMP event listener threw');
      }
    }
  }

  private onReturn(message: object, line: string): void {
    const parsed = ReturnMessage.safeParse(message);
    if (!parsed.success) {
      this.failProtocol(`malformed reply: ${line.slice(0, 200)}`, parsed.error);
      return;
    }
    const entry = this.takeInFlight(parsed.data.id, line);
    if (entry === undefined || entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    if (entry.parse === undefined) {
      entry.resolve(parsed.data.return);
      return;
    }
    const checked = entry.parse(parsed.data.return);
    if (checked.ok) entry.resolve(checked.value);
    else entry.reject(new QmpProtocolError(this.socketPath, `reply to ${entry.command} has an unexpected shape: ${checked.problem}`));
  }

  private onError(message: object, line: string): void {
    const parsed = ErrorMessage.safeParse(message);
    if (!parsed.success) {
      this.failProtocol(`malformed error reply: ${line.slice(0, 200)}`, parsed.error);
      return;
    }
    const entry = this.takeInFlight(parsed.data.id, line);
    if (entry === undefined || entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    entry.reject(new QmpCommandError(entry.command, parsed.data.error.class, parsed.data.error.desc));
  }

  /** Removes the in-flight command a reply answers; a reply nobody asked for breaks the protocol. */
  private takeInFlight(id: unknown, line: string): PendingCommand | undefined {
    const entry = typeof id === 'number' ? this.inFlight.get(id) : undefined;
    if (entry === undefined) {
      this.failProtocol(`reply to no command in flight: ${line.slice(0, 200)}`);
      return undefined;
    }
    this.inFlight.delete(entry.id);
    this.pump();
    return entry;
  }

  private failProtocol(problem: string, cause?: unknown): void {
    const error = new QmpProtocolError(this.socketPath, problem, cause === undefined ? {} : { cause });
    this.fail(new QmpDisconnectedError(this.socketPath, `protocol error: ${problem}`, { cause: error }));
  }

  /** Ends the connection once; everything pending rejects with `error`. */
  private fail(error: QmpDisconnectedError, byClient = false): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.failure = error;
    const pending = [...this.inFlight.values(), ...this.queue];
    this.inFlight.clear();
    this.queue.length = 0;
    for (const entry of pending) {
      clearTimeout(entry.timer);
      if (entry.settled) continue;
      entry.settled = true;
      entry.reject(error);
    }
    for (const waiter of [...this.waiters]) waiter.reject(error);
    this.listeners.clear();
    this.rejectGreeting(error);
    this.socket.destroy();
    this.resolveClosed(byClient ? undefined : error);
  }

  private disconnected(): QmpDisconnectedError {
    const failure = this.failure;
    if (failure === undefined) throw new Error('disconnected() called on a live connection');
    return new QmpDisconnectedError(this.socketPath, failure.reason, { cause: failure.cause });
  }
}

function openUnixSocket(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new QmpConnectError(socketPath, err.code ?? err.message, { cause: err }));
    };
    const timer = setTimeout(() => {
      socket.off('error', onError);
      socket.destroy();
      reject(new QmpTimeoutError('connect', 'socket connect', timeoutMs, socketPath));
    }, timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
