/** The conditions a QMP client reports: one error class per condition a caller can act on. */
import { AppError } from '../../../shared/errors.js';

/** QEMU answered a command with `{"error":{"class","desc"}}`; the connection stays usable. */
export class QmpCommandError extends AppError {
  /** The QMP error class: GenericError, CommandNotFound, DeviceNotFound, DeviceNotActive, KVMMissingCap. */
  readonly errorClass: string;
  readonly desc: string;
  readonly command: string;

  constructor(command: string, errorClass: string, desc: string) {
    super(errorClass === 'DeviceNotFound' ? 'NOT_FOUND' : 'FAILED_PRECONDITION', `QMP ${command}: ${desc}`, {
      details: { command, class: errorClass, desc },
    });
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

/** The QMP socket could not be reached (missing, refused, or closed before the greeting). */
export class QmpConnectError extends AppError {
  readonly socketPath: string;

  constructor(socketPath: string, problem: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `QMP ${socketPath}: ${problem}`, { ...options, details: { socketPath, problem } });
    this.socketPath = socketPath;
  }
}

/** The connection is gone (peer died, socket closed, protocol broken, or close() called). */
export class QmpDisconnectedError extends AppError {
  readonly socketPath: string;
  /** 'closed by client' after close(); otherwise what ended the connection. */
  readonly reason: string;

  constructor(socketPath: string, reason: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `QMP ${socketPath} disconnected: ${reason}`, { ...options, details: { socketPath, reason } });
    this.socketPath = socketPath;
    this.reason = reason;
  }
}

/** What timed out: the connection handshake, a command, or a wait for an event. */
export type QmpTimeoutKind = 'connect' | 'command' | 'event';

/** A QMP operation did not finish within its deadline; `operation` is the command or event name. */
export class QmpTimeoutError extends AppError {
  readonly kind: QmpTimeoutKind;
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(kind: QmpTimeoutKind, operation: string, timeoutMs: number, socketPath: string) {
    super('DEADLINE_EXCEEDED', `QMP ${socketPath}: ${kind} ${operation} timed out after ${timeoutMs} ms`, {
      details: { kind, operation, timeoutMs, socketPath },
    });
    this.kind = kind;
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** QEMU sent something outside the protocol (bad JSON, unknown message, reply of the wrong shape). */
export class QmpProtocolError extends AppError {
  readonly socketPath: string;
  readonly problem: string;

  constructor(socketPath: string, problem: string, options: { cause?: unknown } = {}) {
    super('INTERNAL', `QMP ${socketPath}: protocol error: ${problem}`, { ...options, details: { socketPath, problem } });
    this.socketPath = socketPath;
    this.problem = problem;
  }
}
