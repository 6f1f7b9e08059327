/**
 * The agent's configuration file (JSON): its site and worker id, NATS, and its hypervisor (one
 * kind per agent, chosen by `hypervisor.kind`). The `files` hypervisor declares VMs as named sets
 * of raw disk image files. The `qemu` hypervisor declares VMs by their QMP socket (disks are found
 * over QMP) and the definition a restore rebuilds them from; `workDir` holds a folder per VM for
 * the fleecing overlays and the NBD socket of a backup (`nbdSocket`: the VM already runs an NBD
 * server there, e.g. qemu-storage-daemon --nbd-server; exports then go to it; `consistency`: crash
 * or application-consistent, see hypervisors/qemu/consistency-config.ts). The `libvirt` hypervisor
 * names libvirt domains (hypervisors/libvirt/libvirt-config.ts). `encryption` names the
 * datastore key file and the file holding its passphrase (both absolute paths); `chunkWorkers` is
 * the number of threads that hash, compress and encrypt (default one per core; 0: none, all on
 * the main thread). `storageToken` (or `storageTokenFile`) is the bearer token the agent presents
 * to storage (docs/ACCESS.md).
 */
import { z } from 'zod';
import { loadConfigFile } from '../shared/config/load-config.js';
import { MetricsConfig } from '../shared/metrics/metrics-config.js';
import { ObjectName, SiteId, WorkerId } from '../shared/ids.js';
import type { VmInventory } from '../shared/messages/events.js';
import { VmTag } from '../shared/messages/policy.js';
import { QemuConsistencyConfig } from './hypervisors/qemu/consistency-config.js';
import { LibvirtHypervisor } from './hypervisors/libvirt/libvirt-config.js';
// The `sim` kind: synthetic VMs for scale tests only (never the default; hypervisors/sim/sim-config.ts).
import { SimHypervisor } from './hypervisors/sim/sim-config.js';

const AbsolutePath = z.string().startsWith('/', 'must be an absolute path');

const FilesDisk = z.strictObject({ name: ObjectName, path: AbsolutePath });

/** A VM's tags, reported in the inventory; policies select VMs by tag (docs/OPERATORS.md, Policies). */
const VmTags = z.array(VmTag).optional();

const FilesVm = z.strictObject({
  name: ObjectName,
  disks: z
    .array(FilesDisk)
    .min(1, 'a VM needs at least one disk')
    .superRefine((disks, ctx) => duplicateNames(disks, ctx, 'disk')),
  tags: VmTags,
});

const FilesHypervisor = z.strictObject({
  kind: z.literal('files'),
  vms: z.array(FilesVm).superRefine((vms, ctx) => duplicateNames(vms, ctx, 'VM')),
});

/** sockaddr_un.sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

const SocketPath = AbsolutePath.refine(
  (p) => Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES,
  `must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket path)`,
);

const QemuNic = z.strictObject({
  model: z.string().min(1, 'must not be empty'),
  mac: z
    .string()
    .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be a MAC address like 52:54:00:12:34:56')
    .optional(),
});

const QemuVm = z.strictObject({
  name: ObjectName,
  qmpSocket: SocketPath,
  nbdSocket: SocketPath.optional(),
  definition: z.strictObject({
    cpus: z.number().int().min(1),
    memoryMiB: z.number().int().min(16),
    machine: z.string().min(1, 'must not be empty').optional(),
    nics: z.array(QemuNic).optional(),
    /** Direct kernel boot (as the VM was started with -kernel/-initrd/-append): absolute paths on the host that restores and starts it. */
    kernel: AbsolutePath.optional(),
    initrd: AbsolutePath.optional(),
    append: z.string().max(4096).optional(),
  }),
  consistency: QemuConsistencyConfig.optional(),
  tags: VmTags,
});

const QemuHypervisor = z
  .strictObject({
    kind: z.literal('qemu'),
    workDir: AbsolutePath,
    vms: z.array(QemuVm).superRefine((vms, ctx) => duplicateNames(vms, ctx, 'VM')),
  })
  .superRefine((h, ctx) => {
    // The driver's own NBD server listens on <workDir>/<vm>/nbd.sock.
    h.vms.forEach((vm, i) => {
      const socket = `${h.workDir.replace(/\/+$/, '')}/${vm.name}/nbd.sock`;
      if (vm.nbdSocket === undefined && Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['vms', i, 'name'],
          message: `workDir + "/" + name + "/nbd.sock" must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket path)`,
        });
      }
    });
  });

function duplicateNames(items: readonly { name: string }[], ctx: z.RefinementCtx, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} name "${item.name}"` });
    seen.add(item.name);
  });
}

export const AgentConfig = z.strictObject({
  site: SiteId,
  worker: WorkerId,
  nats: z.strictObject({
    url: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'must be a nats:// URL'),
  }),
  hypervisor: z.discriminatedUnion('kind', [FilesHypervisor, QemuHypervisor, LibvirtHypervisor, SimHypervisor]),
  encryption: z.strictObject({ keyFile: AbsolutePath, passphraseFile: AbsolutePath }).optional(),
  chunkWorkers: z.number().int().min(0).max(64).optional(),
  /**
   * The credential the agent presents to every storage it backs up to or restores from (an
   * `agent` client in the storages' `access.clients`), inline or in a file; none: anonymous.
   */
  storageToken: z.string().min(16, 'must be at least 16 characters').optional(),
  storageTokenFile: AbsolutePath.optional(),
  heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(2000),
  /**
   * JetStream ack_wait of the agent's job consumers (its own and its site's shared one; every
   * agent of a site should use the same): a job whose agent died is redelivered this long after
   * its last sign of life. Default 30 s.
   */
  jobAckWaitMs: z.number().int().min(1000, 'must be at least 1000 ms').max(600_000, 'must be at most 600000 ms').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The Prometheus endpoint (docs/OPERATORS.md, Metrics); absent: none. */
  metrics: MetricsConfig.optional(),
}).refine((c) => !(c.storageToken !== undefined && c.storageTokenFile !== undefined), {
  path: ['storageTokenFile'],
  message: 'give storageToken or storageTokenFile, not both',
});
export type AgentConfig = z.output<typeof AgentConfig>;
export type FilesHypervisorConfig = z.output<typeof FilesHypervisor>;
export type QemuHypervisorConfig = z.output<typeof QemuHypervisor>;
export type QemuVmConfig = z.output<typeof QemuVm>;

/**
 * The inventory with each VM's tags from its entry in the config (drivers report what they see;
 * tags are config). A VM without an entry (a driver that makes its VMs up) keeps the tags its
 * driver reported.
 */
export function withConfiguredTags(vms: readonly VmInventory[], hypervisor: AgentConfig['hypervisor']): VmInventory[] {
  const configured = 'vms' in hypervisor ? hypervisor.vms : [];
  const tags = new Map<string, readonly string[] | undefined>(configured.map((vm) => [vm.name, vm.tags]));
  return vms.map((vm) => ({ ...vm, tags: [...new Set(tags.get(vm.name) ?? vm.tags ?? [])] }));
}

/** Reads and validates the agent's config file; errors name the file, the field and the rule. */
export function loadAgentConfig(path: string): Readonly<AgentConfig> {
  return loadConfigFile(AgentConfig, path);
}
