/**
 * One backup view's objects inside QEMU, over the view's single QMP connection (QEMU-CBT.md §4).
 *
 * Terms: the *fleece overlay* of a disk is a qcow2 file backed by the disk's format node; a
 * `blockdev-backup sync=none` job (the *fleecing job*) puts a copy-before-write filter above the
 * disk, so every guest write first copies the old cluster into the overlay. Reading the overlay
 * then gives the disk as it was at the instant the job started: the view's instant. The
 * *checkpoint* of the view is a new dirty bitmap `bulwark-<ULID>` per disk that records every
 * write from that instant on; the *base* bitmap is the previous checkpoint's, frozen (disabled)
 * at the same instant and exported so the reader sees what changed since the last backup.
 *
 * Open: remove a crashed run's leftovers, reconcile bitmaps, create the overlays, then ONE
 * `transaction` for all disks (add the new bitmaps, disable the bases, start the fleecing jobs),
 * so every disk is taken at the same instant; then an NBD server and a read-only export per disk.
 * Close (success or failure, and the undo of a half-done open): delete exports, cancel jobs,
 * delete overlays and their files, stop the NBD server we started; then success removes the base
 * bitmaps and failure folds the new bitmaps back into the bases in one transaction. Every step
 * is logged and skipped on error: what a failed close leaves behind is the same state a crashed
 * agent leaves, and the next open repairs it without losing a change.
 */
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { errorMessage } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import {
  canPersistBitmaps,
  checkpointBitmap,
  checkpointBitmaps,
  checkpointOf,
  findDisks,
  isOurs,
  readBlockState,
  type BlockNode,
  type DiscoveredDisk,
} from './qemu-block-state.js';
import {
  QemuNbdServerInUseError,
  QemuNoDisksError,
  QemuStepError,
  QemuVmUnavailableError,
  type QemuStep,
} from './qemu-driver-errors.js';
import type { QmpClient, QmpEvent } from './qmp-client.js';
import { QmpCommandError } from './qmp-errors.js';

const execFileAsync = promisify(execFile);

export const NO_BITMAP_YET = 'no dirty bitmap yet';

export interface FleecingOptions {
  readonly vm: string;
  readonly qmp: QmpClient;
  /** `<workDir>/<vm>`, existing: overlays and the NBD socket live here, and nothing else. */
  readonly vmDir: string;
  /** The unix socket of an NBD server the VM already runs; the exports go there instead of a server of ours. */
  readonly nbdSocket: string | undefined;
  /** The VM's logger (it carries the VM's name). */
  readonly log: Logger;
  /** Deadline of each wait for a QEMU event (job started, export deleted, job gone). */
  readonly eventTimeoutMs: number;
  /**
   * Runs the transaction that fixes the instant (application consistency: hooks, freeze, thaw
   * around it). Its own errors pass through as they are; without it the transaction runs bare.
   */
  readonly aroundInstant?: ((fixInstant: () => Promise<void>) => Promise<void>) | undefined;
}

/** A disk of the view as the reader sees it. */
export interface FleecedDisk {
  readonly name: string;
  readonly sizeBytes: number;
  /** The NBD export of the point-in-time view, on `FleecingSession.socketPath`. */
  readonly exportName: string;
  /** The exported base bitmap (its `qemu:dirty-bitmap:` context), or null when the view has no base. */
  readonly dirtyBitmap: string | null;
}

interface DiskSlot {
  readonly name: string;
  readonly node: BlockNode;
  /** This disk's own base bitmap (disabled during the view), whether or not the view has a common base. */
  readonly base: string | null;
  readonly overlayPath: string;
  readonly overlayNode: string;
  readonly jobId: string;
  readonly exportId: string;
  readonly exportName: string;
  overlayFile: boolean;
  overlayAdded: boolean;
  jobRunning: boolean;
  /** Set when the job ended without our cancel: the view no longer holds the instant. */
  jobEnded: string | null;
  exported: boolean;
}

/** Disk → its base bitmap, or why there is none. */
interface BitmapPlan {
  readonly base: string | null;
  readonly reason: string | null;
}

const JOB_GONE = new Set(['aborting', 'concluded', 'null']);

/** The objects of one open backup view inside QEMU. */
export class FleecingSession {
  readonly checkpoint: string;
  readonly baseCheckpoint: string | null;
  readonly fullReason: string | null;
  readonly disks: readonly FleecedDisk[];
  private socket: string;
  private readonly slots: DiskSlot[];
  private readonly newBitmap: string;
  private transactionDone = false;
  private serverStarted = false;
  private cancelling = false;
  private closing: Promise<void> | undefined;
  private stopListening: (() => void) | undefined;

  private constructor(
    private readonly options: FleecingOptions,
    disks: readonly DiscoveredDisk[],
    plans: ReadonlyMap<string, BitmapPlan>,
  ) {
    this.checkpoint = newId();
    this.newBitmap = checkpointBitmap(this.checkpoint);
    this.socket = options.nbdSocket ?? join(options.vmDir, 'nbd.sock');
    const bases = disks.map((d) => plans.get(d.name)?.base ?? null);
    const first = bases[0] ?? null;
    const common = first !== null && bases.every((b) => b === first) ? first : null;
    this.baseCheckpoint = common === null ? null : checkpointOf(common);
    this.fullReason = common === null ? viewReason(disks, plans) : null;
    this.slots = disks.map((d, i) => ({
      name: d.name,
      node: d.node,
      base: plans.get(d.name)?.base ?? null,
      overlayPath: join(options.vmDir, `${d.name}-${this.checkpoint}.qcow2`),
      overlayNode: `bulwark-fleece-${i}`,
      jobId: `bulwark-job-${i}`,
      exportId: `bulwark-export-${i}`,
      exportName: `bulwark-${d.name}`,
      overlayFile: false,
      overlayAdded: false,
      jobRunning: false,
      jobEnded: null,
      exported: false,
    }));
    this.disks = this.slots.map((s) => ({
      name: s.name,
      sizeBytes: s.node.virtualSizeBytes,
      exportName: s.exportName,
      dirtyBitmap: common,
    }));
  }

  /** Opens the view's objects in QEMU; a failure undoes what was done and rethrows. */
  static async open(options: FleecingOptions): Promise<FleecingSession> {
    await removeLeftovers(options);
    const state = await step(options.vm, null, 'discover', () => readBlockState(options.qmp));
    const disks = findDisks(state);
    if (disks.length === 0) throw new QemuNoDisksError(options.vm);
    const plans = new Map<string, BitmapPlan>();
    for (const disk of disks) plans.set(disk.name, await reconcileBitmaps(options, disk));
    const session = new FleecingSession(options, disks, plans);
    try {
      await session.createOverlays();
      await session.startFleecing();
      await session.startNbdServer();
      await session.exportDisks();
    } catch (err) {
      await session.close(false);
      throw err;
    }
    return session;
  }

  /** The NBD server's unix socket. */
  get socketPath(): string {
    return this.socket;
  }

  /** Why a disk's view no longer holds the instant (its fleecing job ended on its own), or null. */
  jobEndedFor(disk: string): { jobId: string; status: string } | null {
    const slot = this.slots.find((s) => s.name === disk);
    return slot?.jobEnded ? { jobId: slot.jobId, status: slot.jobEnded } : null;
  }

  /** Tears everything down; success keeps the new checkpoint, failure folds it into the base. Never throws. */
  close(success: boolean): Promise<void> {
    this.closing ??= this.teardown(success);
    return this.closing;
  }

  private async createOverlays(): Promise<void> {
    const { qmp, vm } = this.options;
    for (const slot of this.slots) {
      await step(vm, slot.name, 'overlay', async () => {
        slot.overlayFile = true;
        await qemuImg(['create', '-q', '-f', 'qcow2', slot.overlayPath, String(slot.node.virtualSizeBytes)]);
        await qmp.execute('blockdev-add', {
          driver: 'qcow2',
          'node-name': slot.overlayNode,
          file: { driver: 'file', filename: slot.overlayPath },
          backing: slot.node.nodeName,
        });
        slot.overlayAdded = true;
      });
    }
  }

  /** The one transaction that fixes the view's instant for every disk. */
  private async startFleecing(): Promise<void> {
    const { qmp, vm, log } = this.options;
    const actions: { type: string; data: Record<string, unknown> }[] = [];
    for (const slot of this.slots) {
      const persistent = canPersistBitmaps(slot.node.drv);
      if (!persistent) {
        log.info({ disk: slot.name, drv: slot.node.drv }, 'image format cannot store persistent bitmaps: a QEMU restart makes the next backup read everything');
      }
      actions.push({ type: 'block-dirty-bitmap-add', data: { node: slot.node.nodeName, name: this.newBitmap, persistent } });
      if (slot.base !== null) actions.push({ type: 'block-dirty-bitmap-disable', data: { node: slot.node.nodeName, name: slot.base } });
      actions.push({
        type: 'blockdev-backup',
        data: { 'job-id': slot.jobId, device: slot.node.nodeName, target: slot.overlayNode, sync: 'none' },
      });
    }
    const abort = new AbortController();
    let started: Promise<QmpEvent>[] = [];
    const fixInstant = async () => {
      // Armed before the transaction (the jobs may report `running` before its reply), and not
      // earlier: the consistency hooks before it may take longer than an event's deadline.
      started = this.slots.map((slot) =>
        qmp.waitForEvent('JOB_STATUS_CHANGE', (e) => e.data['id'] === slot.jobId && isStartOrEnd(e), {
          timeoutMs: this.options.eventTimeoutMs,
          signal: abort.signal,
        }),
      );
      await step(vm, null, 'transaction', () => qmp.execute('transaction', { actions }));
      // Recorded at once: should the wrapper fail after this, close() still undoes the transaction.
      this.transactionDone = true;
      for (const slot of this.slots) slot.jobRunning = true;
      this.stopListening = qmp.onEvent((e) => this.onJobEvent(e));
    };
    try {
      await (this.options.aroundInstant === undefined ? fixInstant() : this.options.aroundInstant(fixInstant));
      if (!this.transactionDone) throw new QemuStepError(vm, null, 'transaction', new Error('aroundInstant returned without running the transaction'));
      for (const [i, wait] of started.entries()) {
        const slot = this.slots[i];
        if (slot === undefined) continue;
        const event = await step(vm, slot.name, 'transaction', () => wait);
        const status = String(event.data['status']);
        if (status !== 'running') {
          slot.jobRunning = status !== 'null';
          throw new QemuStepError(vm, slot.name, 'transaction', new Error(`fleecing job ${slot.jobId} went ${status} instead of running`));
        }
      }
    } finally {
      abort.abort();
    }
  }

  private onJobEvent(event: QmpEvent): void {
    if (event.event !== 'JOB_STATUS_CHANGE' || this.cancelling) return;
    const status = String(event.data['status']);
    const slot = this.slots.find((s) => s.jobId === event.data['id']);
    if (slot === undefined || !JOB_GONE.has(status) || slot.jobEnded !== null) return;
    slot.jobEnded = status;
    this.options.log.error({ disk: slot.name, jobId: slot.jobId, status }, 'fleecing job ended while the backup view was open');
  }

  /** Our own server on the VM's socket in workDir, or the VM's server when the config names one. */
  private async startNbdServer(): Promise<void> {
    const { qmp, vm, log } = this.options;
    if (this.options.nbdSocket !== undefined) return;
    const start = () => qmp.execute('nbd-server-start', { addr: { type: 'unix', data: { path: this.socket } } });
    await step(vm, null, 'nbd-server', async () => {
      try {
        await start();
      } catch (err) {
        if (!(err instanceof QmpCommandError && /already running/i.test(err.desc))) throw err;
        // Only a server listening on OUR socket is ours (left by a crashed agent): restart it.
        if (!(await socketAnswers(this.socket))) throw new QemuNbdServerInUseError(vm);
        log.warn({ socket: this.socket }, 'restarting the NBD server a crashed run left behind');
        await qmp.execute('nbd-server-stop');
        await start();
      }
      this.serverStarted = true;
    });
  }

  private async exportDisks(): Promise<void> {
    const { qmp, vm } = this.options;
    for (const [i, slot] of this.slots.entries()) {
      const bitmap = this.disks[i]?.dirtyBitmap ?? null;
      await step(vm, slot.name, 'export', async () => {
        await qmp.execute('block-export-add', {
          type: 'nbd',
          id: slot.exportId,
          'node-name': slot.overlayNode,
          name: slot.exportName,
          writable: false,
          'allocation-depth': true,
          ...(bitmap === null ? {} : { bitmaps: [{ node: slot.node.nodeName, name: bitmap }] }),
        });
        slot.exported = true;
      });
    }
  }

  private async teardown(success: boolean): Promise<void> {
    const { qmp, log } = this.options;
    const attempt = async (what: string, disk: string | null, fn: () => Promise<void>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (err) {
        log.warn({ err, disk, success }, `backup view teardown: ${what} failed`);
        return false;
      }
    };
    for (const slot of this.slots.filter((s) => s.exported)) {
      await attempt('block-export-del', slot.name, async () => {
        await deleteExport(qmp, slot.exportId, this.options.eventTimeoutMs);
        slot.exported = false;
      });
    }
    this.cancelling = true;
    for (const slot of this.slots.filter((s) => s.jobRunning)) {
      if (slot.jobEnded !== null) {
        slot.jobRunning = false;
        if (success) log.error({ disk: slot.name, status: slot.jobEnded }, 'the fleecing job had ended before the backup view closed');
        continue;
      }
      await attempt('block-job-cancel', slot.name, async () => {
        await cancelJob(qmp, slot.jobId, this.options.eventTimeoutMs);
        slot.jobRunning = false;
      });
    }
    this.stopListening?.();
    for (const slot of this.slots.filter((s) => s.overlayAdded)) {
      await attempt('blockdev-del', slot.name, async () => {
        await qmp.execute('blockdev-del', { 'node-name': slot.overlayNode });
        slot.overlayAdded = false;
      });
    }
    for (const slot of this.slots.filter((s) => s.overlayFile && !s.overlayAdded)) {
      await attempt('removing the overlay file', slot.name, async () => {
        await rm(slot.overlayPath, { force: true });
        slot.overlayFile = false;
      });
    }
    if (this.serverStarted) {
      await attempt('nbd-server-stop', null, async () => {
        await qmp.execute('nbd-server-stop');
        this.serverStarted = false;
      });
    }
    if (!this.transactionDone) return;
    // After the exports are gone, so no bitmap is busy.
    const actions: { type: string; data: Record<string, unknown> }[] = [];
    for (const slot of this.slots) {
      const node = slot.node.nodeName;
      if (success) {
        if (slot.base !== null) actions.push({ type: 'block-dirty-bitmap-remove', data: { node, name: slot.base } });
      } else if (slot.base !== null) {
        actions.push(
          { type: 'block-dirty-bitmap-enable', data: { node, name: slot.base } },
          { type: 'block-dirty-bitmap-merge', data: { node, target: slot.base, bitmaps: [this.newBitmap] } },
          { type: 'block-dirty-bitmap-remove', data: { node, name: this.newBitmap } },
        );
      } else {
        // No base: the changes before this view are unknown, so the next backup reads everything anyway.
        actions.push({ type: 'block-dirty-bitmap-remove', data: { node, name: this.newBitmap } });
      }
    }
    if (actions.length === 0) return;
    // On failure here, both bitmaps stay; the next open merges the newer into the older (no change lost).
    const done = await attempt(success ? 'removing the base bitmaps' : 'folding the new bitmaps into the bases', null, async () => {
      await qmp.execute('transaction', { actions });
    });
    if (done) this.transactionDone = false;
  }
}

/** Runs one step; a failure that is not already ours becomes a QemuStepError naming the VM and disk. */
async function step<T>(vm: string, disk: string | null, what: QemuStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof QemuStepError || err instanceof QemuNbdServerInUseError || err instanceof QemuVmUnavailableError) throw err;
    throw new QemuStepError(vm, disk, what, err);
  }
}

function isStartOrEnd(event: QmpEvent): boolean {
  const status = event.data['status'];
  return status === 'running' || (typeof status === 'string' && JOB_GONE.has(status));
}

function viewReason(disks: readonly DiscoveredDisk[], plans: ReadonlyMap<string, BitmapPlan>): string {
  const reasons = disks.map((d) => ({ disk: d.name, reason: plans.get(d.name)?.reason ?? null }));
  const missing = reasons.filter((r) => r.reason !== null);
  if (missing.length === 0) {
    const names = disks.map((d) => `${d.name}: ${plans.get(d.name)?.base ?? '-'}`).join(', ');
    return `the disks have different base bitmaps (${names})`;
  }
  const unique = [...new Set(missing.map((r) => r.reason))];
  if (unique.length === 1 && missing.length === disks.length) return unique[0] ?? NO_BITMAP_YET;
  return missing.map((r) => (r.reason === NO_BITMAP_YET ? `disk ${r.disk}: ${NO_BITMAP_YET}` : (r.reason ?? ''))).join('; ');
}

/**
 * Removes what a crashed run left: our exports, fleecing jobs and overlay nodes, in that order
 * (an export holds the overlay, the job holds overlay and disk), then every file in the VM's dir.
 */
async function removeLeftovers(options: FleecingOptions): Promise<void> {
  const { qmp, vm, log, eventTimeoutMs } = options;
  await step(vm, null, 'leftovers', async () => {
    const state = await readBlockState(qmp);
    const exports = state.exports.filter((e) => isOurs(e.id));
    const jobs = state.jobs.filter(isOurs);
    const nodes = [...state.nodes.keys()].filter(isOurs);
    if (exports.length + jobs.length + nodes.length > 0) {
      log.warn({ exports: exports.map((e) => e.id), jobs, nodes }, 'removing what a crashed backup run left in QEMU');
    }
    for (const e of exports) await deleteExport(qmp, e.id, eventTimeoutMs);
    for (const job of jobs) await cancelJob(qmp, job, eventTimeoutMs);
    for (const node of nodes) await qmp.execute('blockdev-del', { 'node-name': node });
    // The VM's dir holds only our overlays and socket: after the node removal none is in use.
    for (const entry of await readdir(options.vmDir)) {
      if (entry.endsWith('.qcow2')) await rm(join(options.vmDir, entry), { force: true });
    }
  });
}

/**
 * Leaves at most one checkpoint bitmap on the disk and says whether it is a usable base:
 * inconsistent ones (QEMU killed) are removed; several (a crashed run) are merged into the oldest,
 * which is enabled; a lone bitmap that does not record cannot be trusted and is removed.
 */
async function reconcileBitmaps(options: FleecingOptions, disk: DiscoveredDisk): Promise<BitmapPlan> {
  const { qmp, vm, log } = options;
  const node = disk.node.nodeName;
  const ours = checkpointBitmaps(disk.node);
  const [oldest, ...newer] = ours;
  if (oldest === undefined) return { base: null, reason: NO_BITMAP_YET };
  return step(vm, disk.name, 'bitmaps', async () => {
    const bad = ours.find((b) => b.inconsistent === true);
    if (bad !== undefined) {
      log.warn({ disk: disk.name, bitmaps: ours.map((b) => b.name) }, 'dirty bitmap inconsistent after an unclean QEMU stop; removing it');
      for (const b of ours) await qmp.execute('block-dirty-bitmap-remove', { node, name: b.name });
      return { base: null, reason: `dirty bitmap ${bad.name} of disk ${disk.name} is inconsistent (QEMU stopped uncleanly)` };
    }
    if (newer.length > 0) {
      log.warn({ disk: disk.name, into: oldest.name, merged: newer.map((b) => b.name) }, 'merging the dirty bitmaps a crashed run left into the oldest');
      await qmp.execute('transaction', {
        actions: [
          ...(oldest.recording ? [] : [{ type: 'block-dirty-bitmap-enable', data: { node, name: oldest.name } }]),
          { type: 'block-dirty-bitmap-merge', data: { node, target: oldest.name, bitmaps: newer.map((b) => b.name) } },
          ...newer.map((b) => ({ type: 'block-dirty-bitmap-remove', data: { node, name: b.name } })),
        ],
      });
      return { base: oldest.name, reason: null };
    }
    if (!oldest.recording) {
      log.warn({ disk: disk.name, bitmap: oldest.name }, 'dirty bitmap is not recording; removing it');
      await qmp.execute('block-dirty-bitmap-remove', { node, name: oldest.name });
      return { base: null, reason: `dirty bitmap ${oldest.name} of disk ${disk.name} was not recording` };
    }
    return { base: oldest.name, reason: null };
  });
}

/** block-export-del (hard: drops connections) and waits until QEMU reports the export gone. */
async function deleteExport(qmp: QmpClient, id: string, timeoutMs: number): Promise<void> {
  const abort = new AbortController();
  const deleted = qmp.waitForEvent('BLOCK_EXPORT_DELETED', (e) => e.data['id'] === id, { timeoutMs, signal: abort.signal });
  try {
    try {
      await qmp.execute('block-export-del', { id, mode: 'hard' });
    } catch (err) {
      // An export already shutting down refuses the del; it still ends with the event.
      const exports = await qmp.execute<{ id: string }[]>('query-block-exports');
      if (!exports.some((e) => e.id === id)) return;
      if (!(err instanceof QmpCommandError)) throw err;
    }
    await deleted;
  } finally {
    abort.abort();
  }
}

/**
 * Cancels a fleecing job and waits until it is gone (JOB_STATUS_CHANGE to `null`, after
 * BLOCK_JOB_CANCELLED): only then has it dropped the overlay, so blockdev-del can follow.
 */
async function cancelJob(qmp: QmpClient, jobId: string, timeoutMs: number): Promise<void> {
  const abort = new AbortController();
  const gone = qmp.waitForEvent('JOB_STATUS_CHANGE', (e) => e.data['id'] === jobId && e.data['status'] === 'null', {
    timeoutMs,
    signal: abort.signal,
  });
  try {
    try {
      await qmp.execute('block-job-cancel', { device: jobId, force: true });
    } catch (err) {
      const jobs = await qmp.execute<{ device: string }[]>('query-block-jobs');
      if (!jobs.some((j) => j.device === jobId)) return;
      throw err;
    }
    await gone;
  } finally {
    abort.abort();
  }
}

async function qemuImg(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('qemu-img', args, { timeout: 60_000, encoding: 'utf8' });
  } catch (err) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err && typeof err.stderr === 'string' ? err.stderr.trim() : '';
    throw new Error(`qemu-img ${args.join(' ')} failed${stderr ? `: ${stderr}` : `: ${errorMessage(err)}`}`, { cause: err });
  }
}

/** Whether something listens on a unix socket (within a second). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
