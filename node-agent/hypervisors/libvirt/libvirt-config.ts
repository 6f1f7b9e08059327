/**
 * The `libvirt` hypervisor's config: the libvirt connection URI (`virsh -c`), where the pull-mode
 * backup's NBD server listens (`nbdHost`, and `nbdPortRange` when a firewall wants known ports;
 * without it the OS picks a free port), `scratchDir` for libvirt's per-disk scratch overlays (an
 * existing directory on the libvirt host; libvirtd creates the files there and hands them to
 * QEMU's user `libvirt-qemu`, who must be able to reach the directory; a root-owned 0755 one was
 * checked to work), and the VMs: our name for each and its libvirt domain.
 * The NBD export has no TLS: keep `nbdHost` on loopback unless the network is trusted.
 */
import { z } from 'zod';
import { ObjectName } from '../../../shared/ids.js';
import { VmTag } from '../../../shared/messages/policy.js';

const AbsolutePath = z.string().startsWith('/', 'must be an absolute path');

const Port = z.number().int().min(1).max(65_535);

const LibvirtVm = z.strictObject({
  name: ObjectName,
  /** The libvirt domain's name (as `virsh list` shows it). */
  domain: z
    .string()
    .min(1, 'must not be empty')
    .max(255)
    .regex(/^[^\s/][^/\n]*$/, 'must be a libvirt domain name (no "/", no newline, not starting with a space)'),
  /** Tags reported in the inventory; policies select VMs by tag. */
  tags: z.array(VmTag).optional(),
});

/** The `hypervisor` section of an agent whose VMs are libvirt domains. */
export const LibvirtHypervisor = z.strictObject({
  kind: z.literal('libvirt'),
  uri: z.string().min(1, 'must not be empty').default('qemu:///system'),
  nbdHost: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  nbdPortRange: z
    .tuple([Port, Port])
    .refine(([from, to]) => from <= to, 'must be [from, to] with from <= to')
    .optional(),
  scratchDir: AbsolutePath,
  vms: z.array(LibvirtVm).superRefine((vms, ctx) => {
    const names = new Set<string>();
    const domains = new Set<string>();
    vms.forEach((vm, i) => {
      if (names.has(vm.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate VM name "${vm.name}"` });
      if (domains.has(vm.domain)) ctx.addIssue({ code: 'custom', path: [i, 'domain'], message: `domain "${vm.domain}" is already another VM's` });
      names.add(vm.name);
      domains.add(vm.domain);
    });
  }),
});
export type LibvirtHypervisorConfig = z.output<typeof LibvirtHypervisor>;
export type LibvirtVmConfig = z.output<typeof LibvirtVm>;
