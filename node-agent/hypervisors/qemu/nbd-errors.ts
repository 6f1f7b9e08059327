/**
 * Errors of the NBD client, one per condition a caller can act on: the server is unreachable,
 * the handshake failed, the export or a meta context (e.g. a dirty bitmap) is missing, one
 * request failed (errno; the connection stays usable), the export cannot do what was asked,
 * the server broke the protocol, the connection is gone, or the server stopped answering.
 */
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import { errnoName, type NbdErrnoName } from './nbd-protocol.js';

/** The NBD server cannot be reached (connect refused, no socket, closed during the handshake). */
export class NbdConnectError extends AppError {
  readonly address: string;

  constructor(address: string, reason: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `NBD server ${address}: ${reason}`, { ...options, details: { address, reason } });
    this.address = address;
  }
}

/** The server refused an option of the handshake or is not a fixed-newstyle server. */
export class NbdHandshakeError extends AppError {
  readonly option: string;
  readonly reply: string;
  readonly serverMessage: string;

  constructor(option: string, reply: string, serverMessage: string) {
    super('FAILED_PRECONDITION', `NBD handshake: ${option} failed with ${reply}${serverMessage ? `: ${serverMessage}` : ''}`, {
      details: { option, reply, serverMessage },
    });
    this.option = option;
    this.reply = reply;
    this.serverMessage = serverMessage;
  }
}

/** The server has no export of this name. */
export class NbdExportNotFoundError extends AppError {
  readonly exportName: string;

  constructor(exportName: string, serverMessage: string) {
    super('NOT_FOUND', `NBD export '${exportName}' not found${serverMessage ? `: ${serverMessage}` : ''}`, {
      details: { exportName, serverMessage },
    });
    this.exportName = exportName;
  }
}

/** Meta contexts that were asked for and not selected by the server (e.g. a missing dirty bitmap). */
export class NbdMetaContextError extends AppError {
  readonly exportName: string;
  readonly missing: readonly string[];

  constructor(exportName: string, missing: readonly string[], selected: readonly string[]) {
    super('FAILED_PRECONDITION', `NBD export '${exportName}' does not offer meta context ${missing.join(', ')}`, {
      details: { exportName, missing, selected },
    });
    this.exportName = exportName;
    this.missing = missing;
  }
}

const errnoCodes: Partial<Record<NbdErrnoName, ErrorCode>> = {
  EPERM: 'PERMISSION_DENIED',
  EINVAL: 'INVALID_ARGUMENT',
  EOVERFLOW: 'INVALID_ARGUMENT',
  ENOSPC: 'FAILED_PRECONDITION',
  ENOTSUP: 'FAILED_PRECONDITION',
  ENOMEM: 'UNAVAILABLE',
  ESHUTDOWN: 'UNAVAILABLE',
};

/** The server answered one request with an error; the connection stays usable. */
export class NbdRequestError extends AppError {
  readonly command: string;
  readonly errno: number;
  readonly errnoName: NbdErrnoName;
  readonly serverMessage: string;
  readonly offset: number;
  readonly length: number;

  constructor(command: string, errno: number, serverMessage: string, offset: number, length: number, errorOffset?: number) {
    const name = errnoName(errno);
    super(
      errnoCodes[name] ?? 'INTERNAL',
      `${command} at ${offset}+${length} failed: ${name}${serverMessage ? ` (${serverMessage})` : ''}`,
      { details: { command, errno, errnoName: name, serverMessage, offset, length, ...(errorOffset === undefined ? {} : { errorOffset }) } },
    );
    this.command = command;
    this.errno = errno;
    this.errnoName = name;
    this.serverMessage = serverMessage;
    this.offset = offset;
    this.length = length;
  }
}

/** The export cannot do what was asked (read-only, no trim/flush/FUA, context not negotiated). */
export class NbdUnsupportedError extends AppError {
  readonly capability: string;

  constructor(exportName: string, capability: string) {
    super('FAILED_PRECONDITION', `NBD export '${exportName}' does not support ${capability}`, {
      details: { exportName, capability },
    });
    this.capability = capability;
  }
}

/** The server broke the protocol: alone for a bad reply to one request, else as the cause of NbdDisconnectedError. */
export class NbdProtocolError extends AppError {
  constructor(problem: string, details: Record<string, unknown> = {}) {
    super('INTERNAL', `NBD protocol violation: ${problem}`, { details: { problem, ...details } });
  }
}

/** The connection is gone (closed, lost, or failed); every pending request rejects with it. */
export class NbdDisconnectedError extends AppError {
  readonly reason: string;

  constructor(reason: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `NBD connection closed: ${reason}`, { ...options, details: { reason } });
    this.reason = reason;
  }
}

/** The server did not finish the handshake, or sent nothing while requests were pending, in time. */
export class NbdTimeoutError extends AppError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super('DEADLINE_EXCEEDED', `NBD ${what}: no answer within ${timeoutMs} ms`, { details: { what, timeoutMs } });
    this.timeoutMs = timeoutMs;
  }
}
