/**
 * The `libvirt` driver: VMs are libvirt domains, reached with `virsh -c <uri>` (no shell, see
 * virsh.ts). Raw QMP would taint libvirt's domains and leave libvirt blind to our block nodes and
 * bitmaps, so everything goes through libvirt's own checkpoints and pull-mode backup
 * (pull-backup-session.ts); the data then comes over NBD on TCP (`nbdHost`, a free port), one
 * export per disk named after its target device (vda), with the same NBD client as the qemu driver.
 *
 * Disks are the domain's `disk` devices (`domblklist`; cdroms left out), sizes from `domblkinfo`.
 * A view's disks offer allocatedExtents() (base:allocation, minus holes and ZERO ranges) and, when
 * the view has a base checkpoint, dirtyExtents() (the DIRTY ranges of libvirt's frozen bitmap).
 * Checkpoints need qcow2 disks: libvirt refuses a checkpoint of a raw one.
 */
import type { Logger } from 'pino';
import { NotFoundError } from '../../../shared/errors.js';
import type { BackupView, HypervisorDriver, VmInventory } from '../hypervisor.js';
import { NbdClient } from '../qemu/nbd-client.js';
import { BASE_ALLOCATION, dirtyBitmapContext } from '../qemu/nbd-protocol.js';
import { disconnectAll, nbdBackupDisk } from '../qemu/nbd-backup-disk.js';
import type { LibvirtHypervisorConfig, LibvirtVmConfig } from './libvirt-config.js';
import { LibvirtDiskReadError, LibvirtStepError, LibvirtViewBusyError } from './libvirt-errors.js';
import { NbdPortPicker } from './nbd-port-picker.js';
import { PullBackupSession, type PulledDisk } from './pull-backup-session.js';
import { Virsh } from './virsh.js';

export interface LibvirtDriverTuning {
  /** Deadline of each virsh command for inventory (a stuck libvirtd must not stall the agent's report). */
  readonly inventoryTimeoutMs: number;
  /** Deadline of each virsh command of a backup view. */
  readonly virshTimeoutMs: number;
  /** Deadline for libvirt to show the backup job gone after domjobabort. */
  readonly jobEndTimeoutMs: number;
  /** NBD reads in flight per disk (the backup pipeline issues several readInto at once). */
  readonly readsInFlight: number;
  /** An NBD connection with requests pending and no reply for this long is failed. */
  readonly nbdReplyTimeoutMs: number;
}

export const defaultLibvirtDriverTuning: LibvirtDriverTuning = {
  inventoryTimeoutMs: 10_000,
  virshTimeoutMs: 60_000,
  jobEndTimeoutMs: 30_000,
  readsInFlight: 16,
  nbdReplyTimeoutMs: 120_000,
};

/** The hypervisor driver over libvirt: inventory with virsh, backup views as pull-mode backups read over NBD. */
export class LibvirtDriver implements HypervisorDriver {
  readonly kind = 'libvirt';
  /** VMs with a view open (or opening): libvirt runs one backup job per domain. */
  private readonly open = new Set<string>();
  private readonly virsh: Virsh;
  private readonly inventoryVirsh: Virsh;
  private readonly ports: NbdPortPicker;

  constructor(
    private readonly config: LibvirtHypervisorConfig,
    private readonly log: Logger,
    private readonly tuning: LibvirtDriverTuning = defaultLibvirtDriverTuning,
  ) {
    this.virsh = new Virsh(config.uri, tuning.virshTimeoutMs);
    this.inventoryVirsh = new Virsh(config.uri, tuning.inventoryTimeoutMs);
    this.ports = new NbdPortPicker(config.nbdHost, config.nbdPortRange);
  }

  /** Every configured VM with its disks; a domain libvirt cannot show is listed without disks (and logged). */
  async inventory(): Promise<VmInventory[]> {
    return Promise.all(this.config.vms.map((vm) => this.inventoryOf(vm)));
  }

  /** Opens a point-in-time view of all the VM's disks with a new libvirt checkpoint. */
  async openBackupView(vmName: string): Promise<BackupView> {
    const vm = this.vmConfig(vmName);
    if (this.open.has(vm.name)) throw new LibvirtViewBusyError(vm.name);
    this.open.add(vm.name);
    const log = this.log.child({ vm: vm.name, domain: vm.domain });
    try {
      const session = await PullBackupSession.open({
        vm,
        virsh: this.virsh,
        scratchDir: this.config.scratchDir,
        nbdHost: this.config.nbdHost,
        ports: this.ports,
        log,
        jobEndTimeoutMs: this.tuning.jobEndTimeoutMs,
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
        { checkpoint: session.checkpoint, baseCheckpoint: session.baseCheckpoint, fullReason: session.fullReason, port: session.port, disks: session.disks.map((d) => d.name) },
        'backup view open',
      );
      return this.viewOf(vm.name, session, clients, log);
    } catch (err) {
      this.open.delete(vm.name);
      throw err;
    }
  }

  private vmConfig(vmName: string): LibvirtVmConfig {
    const vm = this.config.vms.find((v) => v.name === vmName);
    if (!vm) throw new NotFoundError('VM', vmName);
    return vm;
  }

  private async inventoryOf(vm: LibvirtVmConfig): Promise<VmInventory> {
    try {
      const disks = await this.inventoryVirsh.disks(vm.domain);
      const sized = await Promise.all(disks.map(async (d) => ({ name: d.target, sizeBytes: await this.inventoryVirsh.capacityBytes(vm.domain, d.target) })));
      return { name: vm.name, hypervisor: this.kind, disks: sized };
    } catch (err) {
      // Inventory reports what it can; a backup of this VM fails with the typed error.
      this.log.warn({ err, vm: vm.name, domain: vm.domain }, 'libvirt domain not readable');
      return { name: vm.name, hypervisor: this.kind, disks: [] };
    }
  }

  private async connectNbd(vm: string, session: PullBackupSession, disk: PulledDisk): Promise<NbdClient> {
    const contexts = [BASE_ALLOCATION, ...(disk.dirtyBitmap === null ? [] : [dirtyBitmapContext(disk.dirtyBitmap)])];
    try {
      return await NbdClient.connect({ host: this.config.nbdHost, port: session.port }, disk.exportName, {
        metaContexts: contexts,
        maxInFlight: this.tuning.readsInFlight,
        replyTimeoutMs: this.tuning.nbdReplyTimeoutMs,
      });
    } catch (err) {
      throw new LibvirtStepError(vm, disk.name, 'nbd-connect', err);
    }
  }

  private viewOf(vm: string, session: PullBackupSession, clients: readonly NbdClient[], log: Logger): BackupView {
    const disks = session.disks.map((disk, i) => {
      const client = clients[i];
      if (client === undefined) throw new Error(`no NBD client for disk ${disk.name}`);
      return nbdBackupDisk({
        name: disk.name,
        sizeBytes: client.sizeBytes,
        client,
        dirtyBitmap: disk.dirtyBitmap,
        readError: (what, err) => new LibvirtDiskReadError(vm, disk.name, what, err),
      });
    });
    let finishing: Promise<void> | undefined;
    const finish = async (success: boolean): Promise<void> => {
      try {
        // Our readers go first: domjobabort removes the exports.
        await disconnectAll(clients, log);
        await session.close(success);
        log.info({ success, checkpoint: session.checkpoint }, 'backup view closed');
      } finally {
        this.open.delete(vm);
      }
    };
    return {
      vm,
      disks,
      // Crash-consistent until the consistency hooks (pre/post commands, guest agent) of the qemu
      // work are wired into this driver too.
      consistency: { level: 'crash', note: null },
      checkpoint: session.checkpoint,
      baseCheckpoint: session.baseCheckpoint,
      fullReason: session.fullReason,
      finish: (success) => (finishing ??= finish(success)),
    };
  }
}
