/** The conditions a QEMU guest agent (QGA) client reports: one error class per condition a caller can act on. */
import { AppError } from '../../../shared/errors.js';

/**
 * The agent cannot be reached: the socket is missing or refuses, or nothing answered
 * guest-sync-delimited before the deadline (qemu-ga not installed or not running in the guest,
 * the guest not booted, or another client holding the socket). A backup falls back to crash-consistent.
 */
export class QgaUnavailableError extends AppError {
  readonly socketPath: string;
  readonly reason: string;
  /** How long the client waited for an answer; 0 when the socket itself failed. */
  readonly waitedMs: number;

  constructor(socketPath: string, reason: string, waitedMs: number, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `QGA ${socketPath}: guest agent unavailable: ${reason}`, {
      ...options,
      details: { socketPath, reason, waitedMs },
    });
    this.socketPath = socketPath;
    this.reason = reason;
    this.waitedMs = waitedMs;
  }
}

/**
 * The agent answered a command with `{"error":{"class","desc"}}`; the connection stays usable.
 * While the guest is frozen every command but a few (ping, sync, fsfreeze-status/-thaw) fails with
 * class CommandNotFound.
 */
export class QgaCommandError extends AppError {
  /** The QAPI error class: GenericError, CommandNotFound, ... */
  readonly errorClass: string;
  readonly desc: string;
  readonly command: string;

  constructor(command: string, errorClass: string, desc: string) {
    super('FAILED_PRECONDITION', `QGA ${command}: ${desc}`, { details: { command, class: errorClass, desc } });
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

/** What timed out: a command's reply, or a guest-exec process that had not exited. */
export type QgaTimeoutKind = 'command' | 'exec';

/**
 * A QGA operation did not finish within its deadline. The command may still complete in the
 * guest (a late guest-fsfreeze-freeze still freezes); the client resynchronises before its next command.
 */
export class QgaTimeoutError extends AppError {
  readonly kind: QgaTimeoutKind;
  /** The command name, or the executed path for 'exec'. */
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(kind: QgaTimeoutKind, operation: string, timeoutMs: number, socketPath: string) {
    super('DEADLINE_EXCEEDED', `QGA ${socketPath}: ${kind} ${operation} timed out after ${timeoutMs} ms`, {
      details: { kind, operation, timeoutMs, socketPath },
    });
    this.kind = kind;
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection ended (QEMU exited, the socket closed, a protocol error, or close() was called). */
export class QgaDisconnectedError extends AppError {
  readonly socketPath: string;
  /** 'closed by client' after close(); otherwise what ended the connection. */
  readonly reason: string;

  constructor(socketPath: string, reason: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `QGA ${socketPath} disconnected: ${reason}`, { ...options, details: { socketPath, reason } });
    this.socketPath = socketPath;
    this.reason = reason;
  }
}

/** The agent sent something outside the protocol (bad JSON, a reply of the wrong shape, a reply nobody asked for). */
export class QgaProtocolError extends AppError {
  readonly socketPath: string;
  readonly problem: string;

  constructor(socketPath: string, problem: string, options: { cause?: unknown } = {}) {
    super('INTERNAL', `QGA ${socketPath}: protocol error: ${problem}`, { ...options, details: { socketPath, problem } });
    this.socketPath = socketPath;
    this.problem = problem;
  }
}
