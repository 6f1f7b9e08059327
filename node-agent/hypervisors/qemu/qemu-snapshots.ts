/**
 * Disk snapshots of a QEMU VM, kept by QEMU and never exported: qcow2 INTERNAL snapshots.
 *
 * Why internal snapshots (not external overlays): a snapshot lives inside each disk's own image,
 * so the VM's block graph, its image files and the backup's fleecing and dirty bitmaps stay as
 * they are; nothing new has to be tracked, merged or cleaned up, and `qemu-img` can list, delete
 * and apply them while the VM is stopped. The price: only qcow2 images can hold them (a raw disk
 * is refused, naming the disk), and QEMU cannot set back an image it has open.
 *
 * - create: ONE QMP `transaction` of `blockdev-snapshot-internal-sync`, one action per disk, so
 *   every disk is taken at the same instant (all or none). The name is the user's, or
 *   `bulwark-<ULID>`; with keep N the oldest `bulwark-<ULID>` snapshots beyond N are then deleted
 *   (`blockdev-snapshot-delete-internal-sync`, disk by disk: not atomic, so an interruption can
 *   leave a name on some disks only, which `list` reports as incomplete and `remove` finishes).
 * - list: `image.snapshots` of each disk's format node (`query-named-block-nodes`), grouped by
 *   name; a snapshot exists when every disk has it.
 * - revert needs the QEMU process gone: when QMP answers, it is refused (the VM runs). Otherwise
 *   `qemu-img snapshot -a` sets each image back; QEMU's image locks make qemu-img fail if the
 *   images are still open after all. qemu-img refuses to apply a snapshot to an image carrying
 *   dirty bitmaps, and after a revert a change-tracking bitmap would be wrong anyway (the disk
 *   jumped back without a write), so Bulwark's own `bulwark-*` bitmaps are removed first: the next
 *   backup reads every allocated block. A bitmap someone else made stops the revert instead.
 * - While the VM is stopped there is no QMP to find the disks: every look at the running VM
 *   records its disks and image files in `<workDir>/<vm>/disks.json`, which list, remove and revert
 *   then use with qemu-img.
 *
 * QEMU serves one QMP client at a time: an operation connects, works and disconnects; while a
 * backup view holds the monitor, a connect waits and times out (QemuVmUnavailableError).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ValidationError, errorMessage, NotFoundError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../../../shared/fs/atomic-file.js';
import { newId, Ulid } from '../../../shared/ids.js';
import { OWN_SNAPSHOT_PREFIX, SnapshotName } from '../../../shared/messages/jobs.js';
import type { QemuHypervisorConfig, QemuVmConfig } from '../../config.js';
import type {
  IncompleteSnapshot,
  SnapshotCreateOptions,
  SnapshotOutcome,
  VmSnapshot,
  VmSnapshots,
} from '../hypervisor.js';
import { findDisks, isOurs, readBlockState, type BlockState } from './qemu-block-state.js';
import { QemuNoDisksError, QemuVmUnavailableError } from './qemu-driver-errors.js';
import {
  QemuSnapshotExistsError,
  QemuSnapshotForeignBitmapError,
  QemuSnapshotImagesUnknownError,
  QemuSnapshotNotFoundError,
  QemuSnapshotRevertError,
  QemuSnapshotStepError,
  QemuSnapshotUnsupportedError,
  QemuSnapshotVmRunningError,
} from './qemu-snapshot-errors.js';
import { QmpClient } from './qmp-client.js';

const execFileAsync = promisify(execFile);

/** The name of the state file, in `<workDir>/<vm>/`. */
export const DISKS_FILE = 'disks.json';

const OWN_SNAPSHOT = /^bulwark-([0-9A-HJKMNP-TV-Z]{26})$/;

/** Whether a snapshot name is one Bulwark made (`bulwark-<ULID>`), subject to keep-N. */
export function isOwnSnapshot(name: string): boolean {
  return OWN_SNAPSHOT.test(name);
}

export interface QemuSnapshotsTuning {
  /** Deadline of the QMP connect and of each QMP command. */
  readonly qmpTimeoutMs: number;
  /** Deadline of each qemu-img run (applying a snapshot rewrites refcounts: large images take a while). */
  readonly toolTimeoutMs: number;
}

export const defaultQemuSnapshotsTuning: QemuSnapshotsTuning = { qmpTimeoutMs: 10_000, toolTimeoutMs: 300_000 };

/** A disk as recorded in disks.json: its format and image file (null when it is not a local file). */
interface DiskRecord {
  readonly name: string;
  readonly format: string;
  readonly image: string | null;
}

const DisksFile = z.object({
  vm: z.string(),
  disks: z.array(z.object({ name: z.string(), format: z.string(), image: z.string().nullable() })),
});

const QemuSnapshotInfo = z.object({
  id: z.string(),
  name: z.string(),
  'date-sec': z.number(),
  'date-nsec': z.number(),
  'vm-state-size': z.number(),
});
type QemuSnapshotInfo = z.infer<typeof QemuSnapshotInfo>;

const NodeSnapshots = z.array(
  z.object({ 'node-name': z.string(), image: z.object({ snapshots: z.array(QemuSnapshotInfo).optional() }) }),
);

const ImageInfo = z.object({
  format: z.string(),
  snapshots: z.array(QemuSnapshotInfo).optional(),
  'format-specific': z
    .object({ data: z.object({ bitmaps: z.array(z.object({ name: z.string() })).optional() }).optional() })
    .optional(),
});

/** One disk and what it holds. */
interface DiskState {
  readonly record: DiskRecord;
  /** The QMP `device` of internal-snapshot commands (online only): the BlockBackend name or the root node. */
  readonly device: string;
  readonly snapshots: readonly QemuSnapshotInfo[];
  readonly bitmaps: readonly string[];
}

/** qemu-img failed; `locked` when another process (QEMU) holds the image. */
class QemuImgFailure extends Error {
  readonly locked: boolean;

  constructor(args: readonly string[], stderr: string, cause: unknown) {
    super(`qemu-img ${args.join(' ')} failed: ${stderr || errorMessage(cause)}`, { cause });
    this.locked = /Failed to get .*lock/.test(stderr);
  }
}

type Connection = { readonly qmp: QmpClient } | { readonly qmp: null; readonly error: unknown };

/** qcow2 internal snapshots of the configured QEMU VMs (the `snapshots` of the qemu driver). */
export class QemuSnapshots implements VmSnapshots {
  constructor(
    private readonly config: QemuHypervisorConfig,
    private readonly log: Logger,
    private readonly tuning: QemuSnapshotsTuning = defaultQemuSnapshotsTuning,
  ) {}

  /** One transaction snapshots every disk of the running VM; then keep-N deletes the oldest own snapshots. */
  async create(vmName: string, options: SnapshotCreateOptions): Promise<SnapshotOutcome> {
    const vm = this.vmConfig(vmName);
    if (options.name !== undefined) checkName(options.name);
    if (options.id !== undefined && !Ulid.safeParse(options.id).success) throw new ValidationError('id', 'must be a 26-character ULID');
    if (options.name?.startsWith(OWN_SNAPSHOT_PREFIX) === true) {
      throw new ValidationError('name', `must not start with "${OWN_SNAPSHOT_PREFIX}" (reserved for the names Bulwark makes)`);
    }
    const name = options.name ?? `${OWN_SNAPSHOT_PREFIX}${options.id ?? newId()}`;
    const log = this.log.child({ vm: vm.name, snapshot: name });
    const qmp = await this.connectOrFail(vm);
    try {
      let disks = await this.discover(vm, qmp);
      if (disks.length === 0) throw new QemuNoDisksError(vm.name);
      for (const d of disks) {
        if (d.record.format !== 'qcow2') throw new QemuSnapshotUnsupportedError(vm.name, d.record.name, d.record.format);
      }
      const holders = disks.filter((d) => holds(d, name)).map((d) => d.record.name);
      // Only this job makes `bulwark-<its id>`: found on every disk, it is a redelivered job's own.
      const ownRetry = options.name === undefined && options.id !== undefined && holders.length === disks.length;
      if (ownRetry) {
        log.info('snapshot already made by this job');
      } else {
        if (holders.length > 0) throw new QemuSnapshotExistsError(vm.name, name, holders);
        const actions = disks.map((d) => ({ type: 'blockdev-snapshot-internal-sync', data: { device: d.device, name } }));
        try {
          await qmp.execute('transaction', { actions });
        } catch (err) {
          throw new QemuSnapshotStepError(vm.name, null, 'create', err);
        }
        log.info({ disks: disks.map((d) => d.record.name) }, 'snapshot created');
      }
      const removed: string[] = [];
      if (options.keep !== undefined) {
        disks = await this.discover(vm, qmp);
        const own = namesOf(disks).filter(isOwnSnapshot).sort();
        for (const old of own.slice(0, Math.max(0, own.length - options.keep))) {
          await this.deleteOnline(vm, qmp, disks, old);
          removed.push(old);
        }
        if (removed.length > 0) log.info({ removed, keep: options.keep }, 'old snapshots removed');
      }
      return outcome(await this.discover(vm, qmp), { created: name, removed, vmRunning: true });
    } finally {
      await qmp.close();
    }
  }

  /** The VM's snapshots: over QMP while it runs, from its images (disks.json) while it is stopped. */
  async list(vmName: string): Promise<SnapshotOutcome> {
    const vm = this.vmConfig(vmName);
    const conn = await this.tryConnect(vm);
    if (conn.qmp === null) return outcome(await this.inspectOffline(vm, conn.error, 'list'), { vmRunning: false });
    try {
      return outcome(await this.discover(vm, conn.qmp), { vmRunning: true });
    } finally {
      await conn.qmp.close();
    }
  }

  /** Deletes the snapshot from every disk holding it (QMP while the VM runs, qemu-img while it is stopped). */
  async remove(vmName: string, name: string): Promise<SnapshotOutcome> {
    const vm = this.vmConfig(vmName);
    checkName(name);
    const conn = await this.tryConnect(vm);
    if (conn.qmp !== null) {
      const qmp = conn.qmp;
      try {
        const disks = await this.discover(vm, qmp);
        await this.deleteOnline(vm, qmp, disks, name);
        this.log.info({ vm: vm.name, snapshot: name }, 'snapshot removed');
        return outcome(await this.discover(vm, qmp), { removed: [name], vmRunning: true });
      } finally {
        await qmp.close();
      }
    }
    const disks = await this.inspectOffline(vm, conn.error, 'remove');
    const holders = disks.filter((d) => holds(d, name));
    if (holders.length === 0) throw new QemuSnapshotNotFoundError(vm.name, name, disks.map((d) => d.record.name));
    for (const d of holders) {
      try {
        await this.qemuImg(['snapshot', '--image-opts', '-d', name, imageOpts(d.record)]);
      } catch (err) {
        if (err instanceof QemuImgFailure && err.locked) throw new QemuVmUnavailableError(vm.name, vm.qmpSocket, conn.error);
        throw new QemuSnapshotStepError(vm.name, d.record.name, 'delete', err);
      }
    }
    this.log.info({ vm: vm.name, snapshot: name }, 'snapshot removed from the stopped VM');
    return outcome(await this.inspectOffline(vm, conn.error, 'remove'), { removed: [name], vmRunning: false });
  }

  /**
   * Sets every disk back to the snapshot with qemu-img; refused while QEMU runs the VM. Bulwark's
   * dirty bitmaps are removed first (see the header), so the next backup is a full read.
   */
  async revert(vmName: string, name: string): Promise<SnapshotOutcome> {
    const vm = this.vmConfig(vmName);
    checkName(name);
    const conn = await this.tryConnect(vm);
    if (conn.qmp !== null) {
      // Refresh the disk record on the way: the operator's next step is to stop the VM and retry.
      try {
        await this.discover(vm, conn.qmp);
      } catch (err) {
        this.log.warn({ err, vm: vm.name }, 'disk record not refreshed');
      } finally {
        await conn.qmp.close();
      }
      throw new QemuSnapshotVmRunningError(vm.name);
    }
    const disks = await this.inspectOffline(vm, conn.error, 'revert');
    // Everything is checked before the first image changes: a refusal leaves every disk as it was.
    const missing = disks.filter((d) => !holds(d, name)).map((d) => d.record.name);
    if (missing.length > 0) throw new QemuSnapshotNotFoundError(vm.name, name, missing);
    for (const d of disks) {
      const foreign = d.bitmaps.find((b) => !isOurs(b));
      if (foreign !== undefined) throw new QemuSnapshotForeignBitmapError(vm.name, d.record.name, foreign, d.record.image ?? '');
    }
    const reverted: string[] = [];
    const dropped = new Set<string>();
    for (const d of disks) {
      const image = d.record.image ?? '';
      try {
        for (const bitmap of d.bitmaps) {
          await this.qemuImg(['bitmap', '--remove', '-f', 'qcow2', image, bitmap]);
          dropped.add(bitmap);
        }
        await this.qemuImg(['snapshot', '--image-opts', '-a', name, imageOpts(d.record)]);
      } catch (err) {
        if (err instanceof QemuImgFailure && err.locked && reverted.length === 0) throw new QemuSnapshotVmRunningError(vm.name, err);
        throw new QemuSnapshotRevertError(vm.name, name, d.record.name, reverted, err);
      }
      reverted.push(d.record.name);
    }
    this.log.info({ vm: vm.name, snapshot: name, disks: reverted, bitmapsRemoved: [...dropped] }, 'VM disks reverted');
    const note =
      dropped.size === 0
        ? null
        : `change-tracking bitmaps removed (${[...dropped].join(', ')}): the next backup reads every allocated block`;
    return outcome(await this.inspectOffline(vm, conn.error, 'revert'), { reverted: name, vmRunning: false, note });
  }

  private vmConfig(vmName: string): QemuVmConfig {
    const vm = this.config.vms.find((v) => v.name === vmName);
    if (!vm) throw new NotFoundError('VM', vmName);
    return vm;
  }

  private async tryConnect(vm: QemuVmConfig): Promise<Connection> {
    try {
      const qmp = await QmpClient.connect(vm.qmpSocket, {
        timeoutMs: this.tuning.qmpTimeoutMs,
        commandTimeoutMs: this.tuning.qmpTimeoutMs,
        logger: this.log,
      });
      return { qmp };
    } catch (error) {
      return { qmp: null, error };
    }
  }

  private async connectOrFail(vm: QemuVmConfig): Promise<QmpClient> {
    const conn = await this.tryConnect(vm);
    if (conn.qmp === null) throw new QemuVmUnavailableError(vm.name, vm.qmpSocket, conn.error);
    return conn.qmp;
  }

  /** The running VM's disks and their snapshots; records the disks for when the VM is stopped. */
  private async discover(vm: QemuVmConfig, qmp: QmpClient): Promise<DiskState[]> {
    let state: BlockState;
    let nodes: z.infer<typeof NodeSnapshots>;
    try {
      state = await readBlockState(qmp);
      nodes = await qmp.execute('query-named-block-nodes', { flat: true }, { returns: NodeSnapshots });
    } catch (err) {
      throw new QemuSnapshotStepError(vm.name, null, 'discover', err);
    }
    const disks = findDisks(state).map((d): DiskState => {
      const snapshots = nodes.find((n) => n['node-name'] === d.node.nodeName)?.image.snapshots ?? [];
      return {
        record: { name: d.name, format: d.node.drv, image: isAbsolute(d.node.filename) ? d.node.filename : null },
        device: qmpDeviceOf(state, d.node.nodeName),
        snapshots,
        bitmaps: d.node.bitmaps.map((b) => b.name),
      };
    });
    await this.writeRecord(vm, disks.map((d) => d.record));
    return disks;
  }

  private async deleteOnline(vm: QemuVmConfig, qmp: QmpClient, disks: readonly DiskState[], name: string): Promise<void> {
    const holders = disks.filter((d) => holds(d, name));
    if (holders.length === 0) throw new QemuSnapshotNotFoundError(vm.name, name, disks.map((d) => d.record.name));
    for (const d of holders) {
      try {
        await qmp.execute('blockdev-snapshot-delete-internal-sync', { device: d.device, name });
      } catch (err) {
        throw new QemuSnapshotStepError(vm.name, d.record.name, 'delete', err);
      }
    }
  }

  /** The stopped VM's disks (from disks.json) and their snapshots and bitmaps (qemu-img info). */
  private async inspectOffline(vm: QemuVmConfig, qmpError: unknown, op: 'list' | 'remove' | 'revert'): Promise<DiskState[]> {
    const records = await this.readRecord(vm, qmpError);
    const disks: DiskState[] = [];
    for (const record of records) {
      if (record.image === null) {
        throw new QemuSnapshotImagesUnknownError(vm.name, `disk ${record.name}: its image is not a local file, qemu-img cannot open it while the VM is stopped`);
      }
      if (op === 'revert' && record.format !== 'qcow2') throw new QemuSnapshotUnsupportedError(vm.name, record.name, record.format);
      let text: string;
      try {
        text = await this.qemuImg(['info', '--output=json', '-f', record.format, record.image]);
      } catch (err) {
        if (err instanceof QemuImgFailure && err.locked) {
          // QMP does not answer but QEMU holds the images: the VM runs with its monitor busy or hung.
          if (op === 'revert') throw new QemuSnapshotVmRunningError(vm.name, err);
          throw new QemuVmUnavailableError(vm.name, vm.qmpSocket, qmpError);
        }
        throw new QemuSnapshotStepError(vm.name, record.name, 'inspect', err);
      }
      let info: z.infer<typeof ImageInfo>;
      try {
        info = ImageInfo.parse(JSON.parse(text));
      } catch (err) {
        throw new QemuSnapshotStepError(vm.name, record.name, 'inspect', err);
      }
      disks.push({
        record,
        device: '',
        snapshots: info.snapshots ?? [],
        bitmaps: (info['format-specific']?.data?.bitmaps ?? []).map((b) => b.name),
      });
    }
    return disks;
  }

  private recordPath(vm: QemuVmConfig): string {
    return join(this.config.workDir, vm.name, DISKS_FILE);
  }

  private async writeRecord(vm: QemuVmConfig, disks: readonly DiskRecord[]): Promise<void> {
    try {
      await mkdir(join(this.config.workDir, vm.name), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.recordPath(vm), Buffer.from(`${JSON.stringify({ vm: vm.name, disks }, null, 2)}\n`));
    } catch (err) {
      throw new QemuSnapshotStepError(vm.name, null, 'state-file', err);
    }
  }

  private async readRecord(vm: QemuVmConfig, qmpError: unknown): Promise<DiskRecord[]> {
    const path = this.recordPath(vm);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new QemuSnapshotStepError(vm.name, null, 'state-file', err);
      throw new QemuSnapshotImagesUnknownError(
        vm.name,
        `QMP ${vm.qmpSocket} unreachable (${errorMessage(qmpError)}) and no record of the VM's disk images (${path}); ` +
          'it is written whenever the agent looks at the running VM: start the VM and list its snapshots once',
      );
    }
    try {
      const parsed = DisksFile.parse(JSON.parse(text));
      if (parsed.disks.length === 0) throw new QemuNoDisksError(vm.name);
      return parsed.disks;
    } catch (err) {
      if (err instanceof QemuNoDisksError) throw err;
      throw new QemuSnapshotStepError(vm.name, null, 'state-file', err);
    }
  }

  private async qemuImg(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync('qemu-img', args, { timeout: this.tuning.toolTimeoutMs, encoding: 'utf8' });
      return stdout;
    } catch (err) {
      const stderr = typeof err === 'object' && err !== null && 'stderr' in err && typeof err.stderr === 'string' ? err.stderr.trim() : '';
      throw new QemuImgFailure(args, stderr, err);
    }
  }
}

function checkName(name: string): void {
  const result = SnapshotName.safeParse(name);
  if (!result.success) throw new ValidationError('name', result.error.issues[0]?.message ?? 'invalid');
}

function holds(disk: DiskState, name: string): boolean {
  return disk.snapshots.some((s) => s.name === name);
}

function namesOf(disks: readonly DiskState[]): string[] {
  return [...new Set(disks.flatMap((d) => d.snapshots.map((s) => s.name)))];
}

/**
 * The `device` argument of the internal-snapshot commands: QEMU wants a root node (or a
 * BlockBackend's name), so walk up from the format node through filters (throttle) that are
 * not ours; snapshotting a root filter reaches the format node below it.
 */
function qmpDeviceOf(state: BlockState, formatNode: string): string {
  let node = formatNode;
  for (let depth = 0; depth < 16; depth++) {
    const parents = (state.parents.get(node) ?? []).filter((p) => !isOurs(p));
    const [only, other] = parents;
    if (only === undefined || other !== undefined) break;
    node = only;
  }
  const device = state.devices.find((d) => d.inserted?.['node-name'] === node && d.device !== '');
  return device?.device ?? node;
}

/** `--image-opts` of a qcow2 image: the format is stated, never probed. */
function imageOpts(record: DiskRecord): string {
  return `driver=qcow2,file.driver=file,file.filename=${(record.image ?? '').replaceAll(',', ',,')}`;
}

function isoOf(info: QemuSnapshotInfo): string {
  return new Date(info['date-sec'] * 1000 + Math.floor(info['date-nsec'] / 1e6)).toISOString();
}

/** Groups the disks' snapshots by name: complete on every disk, or incomplete. */
function outcome(
  disks: readonly DiskState[],
  change: { created?: string; removed?: readonly string[]; reverted?: string; vmRunning: boolean; note?: string | null },
): SnapshotOutcome {
  const snapshots: VmSnapshot[] = [];
  const incomplete: IncompleteSnapshot[] = [];
  for (const name of namesOf(disks)) {
    const copies = disks.flatMap((d) => {
      const info = d.snapshots.find((s) => s.name === name);
      return info === undefined ? [] : [{ disk: d.record.name, info }];
    });
    if (copies.length < disks.length) {
      const present = new Set(copies.map((c) => c.disk));
      incomplete.push({
        name,
        presentOn: [...present],
        missingOn: disks.map((d) => d.record.name).filter((n) => !present.has(n)),
      });
      continue;
    }
    const perDisk = copies.map((c) => ({
      disk: c.disk,
      id: c.info.id,
      createdAt: isoOf(c.info),
      vmStateSizeBytes: c.info['vm-state-size'],
    }));
    snapshots.push({
      name,
      createdAt: perDisk.map((d) => d.createdAt).sort()[0] ?? '',
      madeByBulwark: isOwnSnapshot(name),
      disks: perDisk,
    });
  }
  snapshots.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.name < b.name ? -1 : 1));
  return {
    created: change.created ?? null,
    removed: change.removed ?? [],
    reverted: change.reverted ?? null,
    vmRunning: change.vmRunning,
    snapshots,
    incomplete,
    note: change.note ?? null,
  };
}
