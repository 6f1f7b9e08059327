/** The conditions the libvirt driver reports; each names the VM (and the disk when there is one). */
import { AppError, errorMessage, type ErrorCode } from '../../../shared/errors.js';

/** libvirtd cannot be reached through the URI (daemon down, no permission), or virsh is not installed. */
export class LibvirtUnavailableError extends AppError {
  readonly uri: string;

  constructor(uri: string, reason: string, options: { cause?: unknown } = {}) {
    super('UNAVAILABLE', `libvirt ${uri} unreachable: ${reason}`, { ...options, details: { uri, reason } });
    this.uri = uri;
  }
}

/**
 * A virsh command failed; `libvirtMessage` is libvirt's own error text (e.g. "Requested operation
 * is not valid: domain is not running"). A command that ran past its deadline is DEADLINE_EXCEEDED.
 */
export class LibvirtCommandError extends AppError {
  readonly command: string;
  readonly libvirtMessage: string;

  constructor(command: string, libvirtMessage: string, options: { cause?: unknown; timedOut?: boolean } = {}) {
    const code: ErrorCode = options.timedOut === true ? 'DEADLINE_EXCEEDED' : 'FAILED_PRECONDITION';
    super(code, `virsh ${command} failed: ${libvirtMessage}`, { cause: options.cause, details: { command, libvirtMessage } });
    this.command = command;
    this.libvirtMessage = libvirtMessage;
  }
}

/** What the driver was doing when libvirt (or the NBD server) said no. */
export type LibvirtStep = 'disks' | 'leftovers' | 'checkpoints' | 'backup-begin' | 'backup-xml' | 'nbd-connect';

/** A step of opening a backup view failed; the code is the cause's. */
export class LibvirtStepError extends AppError {
  readonly vm: string;
  readonly disk: string | null;
  readonly step: LibvirtStep;

  constructor(vm: string, disk: string | null, step: LibvirtStep, cause: unknown) {
    super(cause instanceof AppError ? cause.code : 'INTERNAL', `VM ${vm}${disk === null ? '' : ` disk ${disk}`}: ${step} failed: ${errorMessage(cause)}`, {
      cause,
      details: { vm, disk, step },
    });
    this.vm = vm;
    this.disk = disk;
    this.step = step;
  }
}

/** This agent already has a backup view of the VM open. */
export class LibvirtViewBusyError extends AppError {
  readonly vm: string;

  constructor(vm: string) {
    super('FAILED_PRECONDITION', `VM ${vm}: a backup view is already open`, { details: { vm } });
    this.vm = vm;
  }
}

/** The domain runs a backup job that Bulwark did not start (another tool's); libvirt allows one at a time. */
export class LibvirtDomainBusyError extends AppError {
  readonly vm: string;
  readonly domain: string;

  constructor(vm: string, domain: string, what: string) {
    super('FAILED_PRECONDITION', `VM ${vm} (libvirt domain ${domain}): ${what}`, { details: { vm, domain, what } });
    this.vm = vm;
    this.domain = domain;
  }
}

/** libvirt shows no disk device for the domain. */
export class LibvirtNoDisksError extends AppError {
  readonly vm: string;

  constructor(vm: string, domain: string) {
    super('FAILED_PRECONDITION', `VM ${vm}: libvirt domain ${domain} has no disk to back up`, { details: { vm, domain } });
    this.vm = vm;
  }
}

/** No port of the configured range (or the OS) was free for the backup's NBD server. */
export class LibvirtNoFreePortError extends AppError {
  readonly vm: string;

  constructor(vm: string, tried: readonly number[], cause: unknown) {
    super('UNAVAILABLE', `VM ${vm}: no free port for the NBD server (tried ${tried.join(', ')}): ${errorMessage(cause)}`, {
      cause,
      details: { vm, tried },
    });
    this.vm = vm;
  }
}

/** A read or block-status request on a disk's backup export failed. */
export class LibvirtDiskReadError extends AppError {
  readonly vm: string;
  readonly disk: string;

  constructor(vm: string, disk: string, what: string, cause: unknown) {
    super(cause instanceof AppError ? cause.code : 'UNAVAILABLE', `VM ${vm} disk ${disk}: ${what} failed: ${errorMessage(cause)}`, {
      cause,
      details: { vm, disk, what },
    });
    this.vm = vm;
    this.disk = disk;
  }
}
