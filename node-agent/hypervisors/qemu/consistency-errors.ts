/** Why an application-consistent instant could not be had under the 'abort' policy; each names the VM and the step. */
import { AppError, type ErrorCode } from '../../../shared/errors.js';

/** The quiesce steps that can refuse a backup under onFailure 'abort'. */
export type QuiesceStep = 'pre-snapshot' | 'fs-freeze';

/** The pre-snapshot hook failed (non-zero exit, signal, timeout, could not start): fix the hook or the guest. */
export class ConsistencyHookError extends AppError {
  readonly vm: string;
  readonly step: QuiesceStep = 'pre-snapshot';
  /** `exit 3 (stderr: …)`, `timed out after 500 ms, killed`, … */
  readonly reason: string;

  constructor(vm: string, where: 'host' | 'guest-ssh', reason: string, timedOut: boolean) {
    super(timedOut ? 'DEADLINE_EXCEEDED' : 'FAILED_PRECONDITION', `VM ${vm}: pre-snapshot hook (${where}) failed: ${reason}; backup aborted (onFailure "abort")`, {
      details: { vm, step: 'pre-snapshot', where, reason },
    });
    this.vm = vm;
    this.reason = reason;
  }
}

/** The QEMU guest agent could not freeze the guest's filesystems (unreachable, refused, timed out, froze none). */
export class GuestFreezeError extends AppError {
  readonly vm: string;
  readonly step: QuiesceStep = 'fs-freeze';
  readonly socket: string;
  readonly reason: string;

  constructor(vm: string, socket: string, reason: string, cause: unknown) {
    super(codeOf(cause), `VM ${vm}: guest agent fs-freeze via ${socket} failed: ${reason}; backup aborted (onFailure "abort")`, {
      cause,
      details: { vm, step: 'fs-freeze', socket, reason },
    });
    this.vm = vm;
    this.socket = socket;
    this.reason = reason;
  }
}

function codeOf(cause: unknown): ErrorCode {
  return cause instanceof AppError ? cause.code : 'FAILED_PRECONDITION';
}
