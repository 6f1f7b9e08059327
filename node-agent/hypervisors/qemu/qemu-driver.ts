/**
 * The `qemu` driver: VMs run by QEMU (qemu-system or qemu-storage-daemon) that the agent reaches
 * through their QMP sockets. Disks are not configured: they are discovered over QMP (rule in
 * qemu-block-state.ts). A backup view is a point-in-time fleecing export per disk, all taken in
 * one transaction, read over NBD (fleecing-session.ts); change tracking is a persistent dirty
 * bitmap per disk and checkpoint.
 *
 * Per VM the driver holds at most one QMP connection: QEMU serves one monitor client at a time,
 * so while a view is open the inventory asks through the view's connection, and a second view of
 * the same VM is refused.
 *
 * What a disk of a view offers: allocatedExtents() is base:allocation minus holes AND minus
 * ranges flagged ZERO (allocated or not, they read as zeros, and the backup takes every range it
 * is not told about as zeros); dirtyExtents() is the base bitmap's DIRTY ranges, present only when
 * every disk has the same base checkpoint.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NotFoundError } from '../../../shared/errors.js';
import type { QemuHypervisorConfig, QemuVmConfig } from '../../config.js';
import type { BackupView, ConfiguredConsistency, HypervisorDriver, ViewConsistency, VmInventory } from '../hypervisor.js';
import { takeConsistentInstant } from './consistency.js';
import { FleecingSession, type FleecedDisk } from './fleecing-session.js';
import { NbdClient } from './nbd-client.js';
import { BASE_ALLOCATION, dirtyBitmapContext } from './nbd-protocol.js';
import { disconnectAll, nbdBackupDisk } from './nbd-backup-disk.js';
import { findDisks, readBlockState } from './qemu-block-state.js';
import { QemuDiskReadError, QemuFleeceEndedError, QemuStepError, QemuViewBusyError, QemuVmUnavailableError } from './qemu-driver-errors.js';
import { QmpClient } from './qmp-client.js';

/** How a VM is to be rebuilt on restore (CPUs, memory, machine type, NICs), as configured. */
export type QemuVmDefinition = QemuVmConfig['definition'];

export interface QemuDriverTuning {
  /** Deadline of a QMP connect for inventory (a stuck VM must not stall the agent's report). */
  readonly inventoryTimeoutMs: number;
  /** Deadline of a QMP connect, and of each QMP command, for a backup view. */
  readonly qmpTimeoutMs: number;
  /** Deadline of each wait for a QEMU event (job started, export deleted, job gone). */
  readonly eventTimeoutMs: number;
  /** NBD reads in flight per disk (the backup pipeline issues several readInto at once). */
  readonly readsInFlight: number;
  /** An NBD connection with requests pending and no reply for this long is failed. */
  readonly nbdReplyTimeoutMs: number;
}

export const defaultQemuDriverTuning: QemuDriverTuning = {
  inventoryTimeoutMs: 3000,
  qmpTimeoutMs: 30_000,
  eventTimeoutMs: 30_000,
  readsInFlight: 16,
  nbdReplyTimeoutMs: 120_000,
};

export class QemuDriver implements HypervisorDriver {
  readonly kind = 'qemu';
  /** The QMP connection of each VM with a view open (or opening). */
  private readonly open = new Map<string, Promise<QmpClient>>();

  constructor(
    private readonly config: QemuHypervisorConfig,
    private readonly log: Logger,
    private readonly tuning: QemuDriverTuning = defaultQemuDriverTuning,
  ) {}

  /** The configured definition of a VM (for a restore into QEMU); NotFoundError for an unknown VM. */
  definitionOf(vmName: string): QemuVmDefinition {
    return this.vmConfig(vmName).definition;
  }

  /** Every configured VM with its disks; an unreachable VM is listed without disks (and logged). */
  async inventory(): Promise<VmInventory[]> {
    return Promise.all(this.config.vms.map((vm) => this.inventoryOf(vm)));
  }

  /** Opens a point-in-time view of all the VM's disks with a new checkpoint. */
  async openBackupView(vmName: string): Promise<BackupView> {
    const vm = this.vmConfig(vmName);
    if (this.open.has(vm.name)) throw new QemuViewBusyError(vm.name);
    const log = this.log.child({ vm: vm.name });
    const connecting = this.connect(vm, this.tuning.qmpTimeoutMs, this.tuning.qmpTimeoutMs);
    this.open.set(vm.name, connecting);
    let qmp: QmpClient | undefined;
    try {
      qmp = await connecting;
      const vmDir = join(this.config.workDir, vm.name);
      await mkdir(vmDir, { recursive: true, mode: 0o700 });
      let consistency: ViewConsistency = { level: 'crash', note: null };
      const settings = vm.consistency;
      const session = await FleecingSession.open({
        vm: vm.name,
        qmp,
        vmDir,
        nbdSocket: vm.nbdSocket,
        log,
        eventTimeoutMs: this.tuning.eventTimeoutMs,
        aroundInstant:
          settings === undefined
            ? undefined
            : async (fixInstant) => {
                consistency = await takeConsistentInstant({ vm: vm.name, config: settings, log }, fixInstant);
              },
      });
      const clients: NbdClient[] = [];
      try {
        for (const disk of session.disks) clients.push(await this.connectNbd(vm.name, session, disk));
      } catch (err) {
        for (const c of clients) c.destroy();
        await session.close(false);
        throw err;
      }
      log.info(
        {
          checkpoint: session.checkpoint,
          baseCheckpoint: session.baseCheckpoint,
          fullReason: session.fullReason,
          disks: session.disks.map((d) => d.name),
          consistency,
        },
        'backup view open',
      );
      return this.viewOf(vm.name, qmp, session, clients, consistency, log);
    } catch (err) {
      await qmp?.close();
      this.open.delete(vm.name);
      throw err;
    }
  }

  configuredConsistency(vmName: string): ConfiguredConsistency {
    const vm = this.vmConfig(vmName);
    return { mode: vm.consistency?.mode ?? 'crash', field: `hypervisor.vms.${this.config.vms.indexOf(vm)}.consistency` };
  }

  private vmConfig(vmName: string): QemuVmConfig {
    const vm = this.config.vms.find((v) => v.name === vmName);
    if (!vm) throw new NotFoundError('VM', vmName);
    return vm;
  }

  private async connect(vm: QemuVmConfig, timeoutMs: number, commandTimeoutMs: number): Promise<QmpClient> {
    try {
      return await QmpClient.connect(vm.qmpSocket, {
        timeoutMs,
        commandTimeoutMs,
        logger: this.log,
      });
    } catch (err) {
      throw new QemuVmUnavailableError(vm.name, vm.qmpSocket, err);
    }
  }

  private async inventoryOf(vm: QemuVmConfig): Promise<VmInventory> {
    const shared = this.open.get(vm.name);
    let own: QmpClient | undefined;
    try {
      const qmp = shared ? await shared : (own = await this.connect(vm, this.tuning.inventoryTimeoutMs, this.tuning.inventoryTimeoutMs));
      const disks = findDisks(await readBlockState(qmp)).map((d) => ({ name: d.name, sizeBytes: d.node.virtualSizeBytes }));
      return { name: vm.name, hypervisor: this.kind, disks };
    } catch (err) {
      // Inventory reports what it can; a backup of this VM fails with the typed error.
      this.log.warn({ err, vm: vm.name, qmpSocket: vm.qmpSocket }, 'VM not reachable over QMP');
      return { name: vm.name, hypervisor: this.kind, disks: [] };
    } finally {
      await own?.close();
    }
  }

  private async connectNbd(vm: string, session: FleecingSession, disk: FleecedDisk): Promise<NbdClient> {
    const contexts = [BASE_ALLOCATION, ...(disk.dirtyBitmap === null ? [] : [dirtyBitmapContext(disk.dirtyBitmap)])];
    try {
      return await NbdClient.connect({ socketPath: session.socketPath }, disk.exportName, {
        metaContexts: contexts,
        maxInFlight: this.tuning.readsInFlight,
        replyTimeoutMs: this.tuning.nbdReplyTimeoutMs,
      });
    } catch (err) {
      throw new QemuStepError(vm, disk.name, 'nbd-connect', err);
    }
  }

  private viewOf(
    vm: string,
    qmp: QmpClient,
    session: FleecingSession,
    clients: readonly NbdClient[],
    consistency: ViewConsistency,
    log: Logger,
  ): BackupView {
    const disks = session.disks.map((disk, i) => {
      const client = clients[i];
      if (client === undefined) throw new Error(`no NBD client for disk ${disk.name}`);
      return nbdBackupDisk({
        name: disk.name,
        sizeBytes: disk.sizeBytes,
        client,
        dirtyBitmap: disk.dirtyBitmap,
        readError: (what, err) => new QemuDiskReadError(vm, disk.name, what, err),
        guard: () => {
          const ended = session.jobEndedFor(disk.name);
          if (ended !== null) throw new QemuFleeceEndedError(vm, disk.name, ended.jobId, ended.status);
        },
      });
    });
    let finishing: Promise<void> | undefined;
    const finish = async (success: boolean): Promise<void> => {
      try {
        // Our readers go first: the exports are deleted next.
        await disconnectAll(clients, log);
        await session.close(success);
        log.info({ success, checkpoint: session.checkpoint }, 'backup view closed');
      } finally {
        await qmp.close();
        this.open.delete(vm);
      }
    };
    return {
      vm,
      disks,
      consistency,
      checkpoint: session.checkpoint,
      baseCheckpoint: session.baseCheckpoint,
      fullReason: session.fullReason,
      finish: (success) => (finishing ??= finish(success)),
    };
  }
}
