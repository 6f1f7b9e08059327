/**
 * One backup view's objects inside libvirt: a pull-mode backup job and a new checkpoint, made by
 * one `virsh backup-begin` (libvirt takes both at the same instant for every disk).
 *
 * Terms: a *checkpoint* `bulwark-<ULID>` is libvirt's; under it QEMU keeps a persistent dirty
 * bitmap of the same name per disk. libvirt keeps EVERY checkpoint's bitmap recording (checked on
 * libvirt 9.0: after cp0 then cp1, cp0's bitmap counts the writes of both periods), so the bitmap
 * of an older checkpoint always covers the changes of the newer ones. The *base* is the one
 * Bulwark checkpoint a finished run leaves; the backup job exports `qemu:dirty-bitmap:backup-<dev>`
 * (a frozen copy of the base bitmap taken at the instant) next to `base:allocation`. The *scratch*
 * file per disk (`<scratchDir>/<vm>.<checkpoint>.<dev>.scratch.qcow2`) is libvirt's fleecing
 * overlay: libvirtd creates it for QEMU and deletes it when the job ends.
 *
 * Open: repair what a crashed run left (our pull job still running: abort it; several Bulwark
 * checkpoints: keep the oldest, whose bitmap covers the others'), then backup-begin with the base
 * as `<incremental>`; a base whose bitmap QEMU lost (killed) makes libvirt refuse: the base is
 * deleted and the view is a full one, saying why. Close: `domjobabort` ends the pull job (the
 * normal end of a pull backup); success deletes the older Bulwark checkpoints, failure deletes the
 * new one. Deleting it loses no change: the base's bitmap kept recording all along (checked: after
 * `checkpoint-delete cp1`, cp0's count still held the writes made after cp1). Close logs and skips
 * a failed step: what it leaves is what a crash leaves, and the next open repairs it.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage, NotFoundError } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { LibvirtVmConfig } from './libvirt-config.js';
import {
  LibvirtCommandError,
  LibvirtDomainBusyError,
  LibvirtNoDisksError,
  LibvirtNoFreePortError,
  LibvirtStepError,
  LibvirtUnavailableError,
  type LibvirtStep,
} from './libvirt-errors.js';
import type { NbdPortPicker } from './nbd-port-picker.js';
import { checkpointXml, pullBackupXml, type DomainDisk, type Virsh } from './virsh.js';

/** Bulwark's checkpoints are `bulwark-<ULID>`; libvirt's other checkpoints are never touched. */
export const CHECKPOINT_PREFIX = 'bulwark-';
/** The fullReason of a view of a domain without a Bulwark checkpoint. */
export const NO_CHECKPOINT_YET = 'no libvirt checkpoint yet';

const CHECKPOINT_PATTERN = /^bulwark-[0-9A-HJKMNP-TV-Z]{26}$/;
const JOB_POLL_MS = 50;

export interface PullBackupOptions {
  readonly vm: LibvirtVmConfig;
  readonly virsh: Virsh;
  /** Where libvirt puts the scratch overlays (on the libvirt host). */
  readonly scratchDir: string;
  /** Where the NBD server listens. */
  readonly nbdHost: string;
  readonly ports: NbdPortPicker;
  /** The VM's logger. */
  readonly log: Logger;
  /** Deadline for libvirt to report the backup job gone after domjobabort. */
  readonly jobEndTimeoutMs: number;
}

/** A disk of the view as the reader sees it. */
export interface PulledDisk {
  /** The target device (vda): the disk's name in the backup. */
  readonly name: string;
  readonly exportName: string;
  /** The exported frozen bitmap (its `qemu:dirty-bitmap:` context), or null for a full view. */
  readonly dirtyBitmap: string | null;
}

/** Whether a checkpoint name is one of ours. */
export function isBulwarkCheckpoint(name: string): boolean {
  return CHECKPOINT_PATTERN.test(name);
}

/** The open pull-mode backup job of one view. */
export class PullBackupSession {
  private closed = false;

  private constructor(
    private readonly options: PullBackupOptions,
    readonly checkpoint: string,
    readonly baseCheckpoint: string | null,
    readonly fullReason: string | null,
    readonly port: number,
    readonly disks: readonly PulledDisk[],
  ) {}

  /** Repairs leftovers, starts the pull backup with a new checkpoint, and reads its exports. */
  static async open(options: PullBackupOptions): Promise<PullBackupSession> {
    const { vm, virsh, log } = options;
    const disks = await step(vm.name, 'disks', () => virsh.disks(vm.domain));
    if (disks.length === 0) throw new LibvirtNoDisksError(vm.name, vm.domain);
    await step(vm.name, 'leftovers', () => removeLeftovers(options));
    let { base, reason } = await step(vm.name, 'checkpoints', () => reconcileCheckpoints(options));
    const checkpoint = `${CHECKPOINT_PREFIX}${newId()}`;
    const xmlDir = await mkdtemp(join(tmpdir(), 'bulwark-libvirt-'));
    let port: number;
    try {
      const checkpointFile = join(xmlDir, 'checkpoint.xml');
      await writeFile(checkpointFile, checkpointXml(checkpoint, `Bulwark backup of VM ${vm.name}`));
      const tried: number[] = [];
      let lastPortError: unknown;
      for (;;) {
        const candidate = await options.ports.next(tried);
        if (candidate === undefined) throw new LibvirtNoFreePortError(vm.name, tried, lastPortError);
        tried.push(candidate);
        const backupFile = join(xmlDir, 'backup.xml');
        await writeFile(backupFile, pullBackupXml({ incremental: base, host: options.nbdHost, port: candidate, disks: scratchFor(options, checkpoint, disks) }));
        try {
          await virsh.run(['backup-begin', '--domain', vm.domain, '--backupxml', backupFile, '--checkpointxml', checkpointFile]);
          port = candidate;
          break;
        } catch (err) {
          if (isPortInUse(err)) {
            log.debug({ port: candidate }, 'NBD port in use; trying another');
            lastPortError = err;
            continue;
          }
          if (base !== null && isBrokenCheckpoint(err)) {
            const message = err instanceof LibvirtCommandError ? err.libvirtMessage : errorMessage(err);
            log.warn({ checkpoint: base, libvirt: message }, 'libvirt cannot use the base checkpoint (its bitmap is lost or broken); deleting it, reading everything');
            await step(vm.name, 'checkpoints', () => deleteCheckpoint(options, base ?? ''));
            reason = `libvirt checkpoint ${base} is unusable (${message})`;
            base = null;
            tried.pop();
            continue;
          }
          // backup-begin is one step in libvirt, but make sure no half of it stays.
          await deleteIfPresent(options, checkpoint);
          throw new LibvirtStepError(vm.name, null, 'backup-begin', err);
        }
      }
    } finally {
      await rm(xmlDir, { recursive: true, force: true });
    }
    const session = await PullBackupSession.describe(options, checkpoint, base, reason, port, disks).catch(async (err: unknown) => {
      await abortJob(options).catch((abortErr: unknown) => log.warn({ err: abortErr }, 'domjobabort failed'));
      await deleteIfPresent(options, checkpoint);
      throw err;
    });
    return session;
  }

  private static async describe(
    options: PullBackupOptions,
    checkpoint: string,
    base: string | null,
    reason: string | null,
    port: number,
    disks: readonly DomainDisk[],
  ): Promise<PullBackupSession> {
    const { vm, virsh } = options;
    const job = await step(vm.name, 'backup-xml', async () => {
      const info = await virsh.backupJob(vm.domain);
      if (info === null) throw new Error('the backup job ended as soon as it began');
      return info;
    });
    const pulled = disks.map((d): PulledDisk => {
      const jobDisk = job.disks.find((j) => j.name === d.target);
      // libvirt 9.0 names them after the target: export `vda`, bitmap `backup-vda`.
      return {
        name: d.target,
        exportName: jobDisk?.exportName ?? d.target,
        dirtyBitmap: base === null ? null : (jobDisk?.exportBitmap ?? `backup-${d.target}`),
      };
    });
    return new PullBackupSession(options, checkpoint, base, base === null ? (reason ?? NO_CHECKPOINT_YET) : null, port, pulled);
  }

  /** Ends the pull job; success keeps only the new checkpoint, failure deletes it (its changes stay in the base's bitmap). */
  async close(success: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { log } = this.options;
    try {
      await abortJob(this.options);
    } catch (err) {
      log.warn({ err, success }, 'backup view teardown: domjobabort failed (the next backup aborts the job)');
    }
    const doomed = success
      ? await this.options.virsh
          .checkpoints(this.options.vm.domain)
          .then((names) => names.filter((n) => isBulwarkCheckpoint(n) && n < this.checkpoint))
          .catch((err: unknown) => {
            log.warn({ err }, 'backup view teardown: checkpoint-list failed');
            return [];
          })
      : [this.checkpoint];
    for (const name of doomed) {
      try {
        await deleteCheckpoint(this.options, name);
      } catch (err) {
        log.warn({ err, checkpoint: name, success }, 'backup view teardown: checkpoint-delete failed (the next backup repairs it)');
      }
    }
  }
}

function scratchFor(options: PullBackupOptions, checkpoint: string, disks: readonly DomainDisk[]) {
  return disks.map((d) => ({ target: d.target, scratchFile: join(options.scratchDir, `${options.vm.name}.${checkpoint}.${d.target}.scratch.qcow2`) }));
}

function scratchPattern(vm: string): RegExp {
  const escaped = vm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}\\.bulwark-[0-9A-HJKMNP-TV-Z]{26}\\.[^./]+\\.scratch\\.qcow2$`);
}

/** Runs one step; a failure not already ours becomes a LibvirtStepError naming the VM. */
async function step<T>(vm: string, what: LibvirtStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LibvirtStepError || err instanceof LibvirtDomainBusyError || err instanceof LibvirtNoFreePortError) throw err;
    if (err instanceof NotFoundError || err instanceof LibvirtUnavailableError) throw err;
    throw new LibvirtStepError(vm, null, what, err);
  }
}

/**
 * A pull job of ours still running (the agent died with a view open) is aborted; a job that is not
 * ours (its scratch files are elsewhere) makes the domain busy. Then our stale scratch files go.
 */
async function removeLeftovers(options: PullBackupOptions): Promise<void> {
  const { vm, virsh, log } = options;
  const job = await virsh.backupJob(vm.domain);
  if (job !== null) {
    const pattern = scratchPattern(vm.name);
    const scratch = job.disks.filter((d) => d.backup).map((d) => d.scratchFile);
    const ours =
      scratch.length > 0 && scratch.every((f) => f !== null && f.startsWith(`${options.scratchDir.replace(/\/+$/, '')}/`) && pattern.test(f.slice(f.lastIndexOf('/') + 1)));
    if (!ours) throw new LibvirtDomainBusyError(vm.name, vm.domain, 'runs a backup job that Bulwark did not start');
    log.warn({ scratch }, 'aborting the pull backup job a crashed run left');
    await abortJob(options);
  }
  let entries: string[];
  try {
    entries = await readdir(options.scratchDir);
  } catch (err) {
    // A remote libvirt host's scratchDir is not here; libvirt removes its scratch files itself.
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return;
    throw err;
  }
  const pattern = scratchPattern(vm.name);
  for (const entry of entries.filter((e) => pattern.test(e))) {
    log.warn({ file: entry }, 'removing a scratch file a crashed run left');
    await rm(join(options.scratchDir, entry), { force: true });
  }
}

/**
 * Leaves at most one Bulwark checkpoint: several mean a run that did not finish; the oldest one's
 * bitmap covers the newer ones' (all record), so the newer are deleted and the oldest is the base.
 */
async function reconcileCheckpoints(options: PullBackupOptions): Promise<{ base: string | null; reason: string | null }> {
  const { vm, virsh, log } = options;
  const ours = (await virsh.checkpoints(vm.domain)).filter(isBulwarkCheckpoint);
  const [oldest, ...newer] = ours;
  if (oldest === undefined) return { base: null, reason: NO_CHECKPOINT_YET };
  if (newer.length > 0) {
    log.warn({ keep: oldest, delete: newer }, 'several Bulwark checkpoints (a run did not finish); keeping the oldest, whose bitmap covers the others');
    for (const name of newer.reverse()) await deleteCheckpoint(options, name);
  }
  return { base: oldest, reason: null };
}

/**
 * Deletes a checkpoint with its bitmaps; when QEMU no longer has the bitmap (it was killed), only
 * libvirt's metadata is left to delete. A checkpoint already gone is fine.
 */
async function deleteCheckpoint(options: PullBackupOptions, name: string): Promise<void> {
  const { vm, virsh } = options;
  try {
    await virsh.run(['checkpoint-delete', '--domain', vm.domain, '--checkpointname', name]);
  } catch (err) {
    if (!(err instanceof LibvirtCommandError)) throw err;
    if (/no domain checkpoint with matching name/i.test(err.libvirtMessage)) return;
    if (!isBrokenCheckpoint(err)) throw err;
    options.log.warn({ checkpoint: name, libvirt: err.libvirtMessage }, 'checkpoint bitmap gone; deleting the checkpoint metadata only');
    await virsh.run(['checkpoint-delete', '--domain', vm.domain, '--checkpointname', name, '--metadata']);
  }
}

async function deleteIfPresent(options: PullBackupOptions, name: string): Promise<void> {
  try {
    await deleteCheckpoint(options, name);
  } catch (err) {
    options.log.warn({ err, checkpoint: name }, 'could not delete the new checkpoint (the next backup repairs it)');
  }
}

/** `domjobabort` (the normal end of a pull backup), then waits until libvirt shows no backup job. */
async function abortJob(options: PullBackupOptions): Promise<void> {
  const { vm, virsh } = options;
  try {
    await virsh.run(['domjobabort', '--domain', vm.domain]);
  } catch (err) {
    if (!(err instanceof LibvirtCommandError && /no job is active/i.test(err.libvirtMessage))) throw err;
  }
  const deadline = Date.now() + options.jobEndTimeoutMs;
  while ((await virsh.backupJob(vm.domain)) !== null) {
    if (Date.now() > deadline) throw new LibvirtCommandError('domjobabort', `the backup job still runs after ${options.jobEndTimeoutMs} ms`, { timedOut: true });
    await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
  }
}

function isPortInUse(err: unknown): boolean {
  return err instanceof LibvirtCommandError && /address already in use|failed to find an available port/i.test(err.libvirtMessage);
}

/** libvirt refuses a checkpoint whose bitmap QEMU lost or marked inconsistent (QEMU was killed). */
function isBrokenCheckpoint(err: unknown): boolean {
  return (
    err instanceof LibvirtCommandError &&
    /checkpoint inconsistent|missing or broken bitmap|bitmap '[^']*' not found|inconsistent and cannot be used/i.test(err.libvirtMessage)
  );
}
