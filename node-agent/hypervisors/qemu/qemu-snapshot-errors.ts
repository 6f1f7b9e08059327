/** The conditions snapshot management of a QEMU VM reports; each names the VM (and the disk or snapshot). */
import { AppError, errorMessage, type ErrorCode } from '../../../shared/errors.js';
import { QmpCommandError } from './qmp-errors.js';

/** A disk's image format cannot hold internal snapshots (raw and every format but qcow2). */
export class QemuSnapshotUnsupportedError extends AppError {
  readonly vm: string;
  readonly disk: string;
  readonly format: string;

  constructor(vm: string, disk: string, format: string) {
    super(
      'FAILED_PRECONDITION',
      `VM ${vm} disk ${disk}: a ${format} image cannot hold internal snapshots (only qcow2 can; convert the disk with qemu-img convert -O qcow2)`,
      { details: { vm, disk, format } },
    );
    this.vm = vm;
    this.disk = disk;
    this.format = format;
  }
}

/** A revert was asked while QEMU has the VM's images open. */
export class QemuSnapshotVmRunningError extends AppError {
  readonly vm: string;

  constructor(vm: string, cause?: unknown) {
    super('FAILED_PRECONDITION', `VM ${vm}: stop the VM first (revert needs QEMU to release the images)`, {
      cause,
      details: { vm },
    });
    this.vm = vm;
  }
}

/** No snapshot of that name on the disks that must have it. */
export class QemuSnapshotNotFoundError extends AppError {
  readonly vm: string;
  readonly snapshot: string;
  /** The disks without it. */
  readonly missingOn: readonly string[];

  constructor(vm: string, snapshot: string, missingOn: readonly string[]) {
    super('NOT_FOUND', `VM ${vm}: no snapshot ${snapshot} on disk(s) ${missingOn.join(', ')}`, {
      details: { vm, snapshot, missingOn },
    });
    this.vm = vm;
    this.snapshot = snapshot;
    this.missingOn = missingOn;
  }
}

/** A new snapshot's name is taken on some disk already. */
export class QemuSnapshotExistsError extends AppError {
  readonly vm: string;
  readonly snapshot: string;
  readonly presentOn: readonly string[];

  constructor(vm: string, snapshot: string, presentOn: readonly string[]) {
    super('ALREADY_EXISTS', `VM ${vm}: a snapshot ${snapshot} already exists on disk(s) ${presentOn.join(', ')}`, {
      details: { vm, snapshot, presentOn },
    });
    this.vm = vm;
    this.snapshot = snapshot;
    this.presentOn = presentOn;
  }
}

/**
 * The VM is not running and the agent has no record of its disk images (the record is written
 * whenever it looks at the running VM's snapshots), or a disk's image is not a local file.
 */
export class QemuSnapshotImagesUnknownError extends AppError {
  readonly vm: string;

  constructor(vm: string, problem: string) {
    super('FAILED_PRECONDITION', `VM ${vm}: ${problem}`, { details: { vm, problem } });
    this.vm = vm;
  }
}

/** A disk holds a dirty bitmap Bulwark did not make: QEMU cannot revert it, and removing it is not ours to decide. */
export class QemuSnapshotForeignBitmapError extends AppError {
  readonly vm: string;
  readonly disk: string;
  readonly bitmap: string;

  constructor(vm: string, disk: string, bitmap: string, image: string) {
    super(
      'FAILED_PRECONDITION',
      `VM ${vm} disk ${disk}: dirty bitmap ${bitmap} (not made by Bulwark) prevents a revert; remove it first (qemu-img bitmap --remove ${image} ${bitmap})`,
      { details: { vm, disk, bitmap, image } },
    );
    this.vm = vm;
    this.disk = disk;
    this.bitmap = bitmap;
  }
}

/** What snapshot management was doing when QEMU or qemu-img said no. */
export type QemuSnapshotStep = 'discover' | 'create' | 'delete' | 'inspect' | 'revert' | 'state-file';

/** A QMP command or a qemu-img run failed; the code is the cause's (a QMP timeout stays DEADLINE_EXCEEDED). */
export class QemuSnapshotStepError extends AppError {
  readonly vm: string;
  readonly disk: string | null;
  readonly step: QemuSnapshotStep;

  constructor(vm: string, disk: string | null, step: QemuSnapshotStep, cause: unknown) {
    const qmp = cause instanceof QmpCommandError ? { command: cause.command, class: cause.errorClass, desc: cause.desc } : {};
    const code: ErrorCode = cause instanceof AppError ? cause.code : 'INTERNAL';
    super(code, `VM ${vm}${disk === null ? '' : ` disk ${disk}`}: snapshot ${step} failed: ${errorMessage(cause)}`, {
      cause,
      details: { vm, disk, step, ...qmp },
    });
    this.vm = vm;
    this.disk = disk;
    this.step = step;
  }
}

/** A revert failed part way: some disks are at the snapshot, the others are not. */
export class QemuSnapshotRevertError extends AppError {
  readonly vm: string;
  readonly snapshot: string;
  readonly disk: string;
  readonly reverted: readonly string[];

  constructor(vm: string, snapshot: string, disk: string, reverted: readonly string[], cause: unknown) {
    super(
      'INTERNAL',
      `VM ${vm}: revert to ${snapshot} failed on disk ${disk}${reverted.length > 0 ? ` after disk(s) ${reverted.join(', ')} were reverted (retry the revert)` : ''}: ${errorMessage(cause)}`,
      { cause, details: { vm, snapshot, disk, reverted } },
    );
    this.vm = vm;
    this.snapshot = snapshot;
    this.disk = disk;
    this.reverted = reverted;
  }
}
