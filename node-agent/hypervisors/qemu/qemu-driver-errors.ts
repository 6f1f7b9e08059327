/** The conditions the qemu driver reports; each names the VM (and the disk when there is one). */
import { AppError, errorMessage, type ErrorCode } from '../../../shared/errors.js';
import { QmpCommandError } from './qmp-errors.js';

function codeOf(cause: unknown, fallback: ErrorCode): ErrorCode {
  return cause instanceof AppError ? cause.code : fallback;
}

/** The VM's QMP socket cannot be reached (QEMU not running, socket missing, monitor busy). */
export class QemuVmUnavailableError extends AppError {
  readonly vm: string;
  readonly qmpSocket: string;

  constructor(vm: string, qmpSocket: string, cause: unknown) {
    super('UNAVAILABLE', `VM ${vm}: QMP ${qmpSocket} unreachable: ${errorMessage(cause)}`, {
      cause,
      details: { vm, qmpSocket },
    });
    this.vm = vm;
    this.qmpSocket = qmpSocket;
  }
}

/** What the driver was doing when QEMU or a tool said no. */
export type QemuStep =
  | 'discover'
  | 'leftovers'
  | 'bitmaps'
  | 'overlay'
  | 'transaction'
  | 'nbd-server'
  | 'export'
  | 'nbd-connect';

/**
 * A step of opening a backup view failed: a QMP command (class and desc in the details), or a
 * tool such as qemu-img. The code is the cause's (a QMP timeout stays DEADLINE_EXCEEDED).
 */
export class QemuStepError extends AppError {
  readonly vm: string;
  readonly disk: string | null;
  readonly step: QemuStep;

  constructor(vm: string, disk: string | null, step: QemuStep, cause: unknown) {
    const qmp = cause instanceof QmpCommandError ? { command: cause.command, class: cause.errorClass, desc: cause.desc } : {};
    super(codeOf(cause, 'INTERNAL'), `VM ${vm}${disk === null ? '' : ` disk ${disk}`}: ${step} failed: ${errorMessage(cause)}`, {
      cause,
      details: { vm, disk, step, ...qmp },
    });
    this.vm = vm;
    this.disk = disk;
    this.step = step;
  }
}

/** This agent already has a backup view of the VM open (one at a time: QEMU has one QMP client). */
export class QemuViewBusyError extends AppError {
  readonly vm: string;

  constructor(vm: string) {
    super('FAILED_PRECONDITION', `VM ${vm}: a backup view is already open`, { details: { vm } });
    this.vm = vm;
  }
}

/** QEMU shows no disk for the VM (no device with a medium, no top format node). */
export class QemuNoDisksError extends AppError {
  readonly vm: string;

  constructor(vm: string) {
    super('FAILED_PRECONDITION', `VM ${vm}: QEMU shows no disk to back up`, { details: { vm } });
    this.vm = vm;
  }
}

/** QEMU already runs an NBD server that is not the driver's, and the config does not name its socket. */
export class QemuNbdServerInUseError extends AppError {
  readonly vm: string;

  constructor(vm: string) {
    super(
      'FAILED_PRECONDITION',
      `VM ${vm}: QEMU already runs an NBD server that Bulwark did not start; set the VM's nbdSocket to its unix socket`,
      { details: { vm } },
    );
    this.vm = vm;
  }
}

/** The fleecing job of a disk ended while the view was open: reads would no longer be of the backup's instant. */
export class QemuFleeceEndedError extends AppError {
  readonly vm: string;
  readonly disk: string;

  constructor(vm: string, disk: string, jobId: string, status: string) {
    super('FAILED_PRECONDITION', `VM ${vm} disk ${disk}: fleecing job ${jobId} ended (${status}) while the backup view was open`, {
      details: { vm, disk, jobId, status },
    });
    this.vm = vm;
    this.disk = disk;
  }
}

/** A read or block-status request on a disk's backup export failed. */
export class QemuDiskReadError extends AppError {
  readonly vm: string;
  readonly disk: string;

  constructor(vm: string, disk: string, what: string, cause: unknown) {
    super(codeOf(cause, 'UNAVAILABLE'), `VM ${vm} disk ${disk}: ${what} failed: ${errorMessage(cause)}`, {
      cause,
      details: { vm, disk, what },
    });
    this.vm = vm;
    this.disk = disk;
  }
}
