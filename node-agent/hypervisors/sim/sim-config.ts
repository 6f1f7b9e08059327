/**
 * The `sim` hypervisor's config: synthetic VMs for scale tests only (DESIGN.md §6), never the
 * default and never the only proof of a feature. `vmCount` VMs named `<namePrefix>-<index>`
 * (index from `firstIndex`, five digits), each with `disksPerVm` disks of `diskSizeBytes`; their
 * content comes from `seed` (sim-disk-model.ts). Between two backup views of a VM, `changeFraction`
 * of each disk's `blockBytes` blocks change (a seeded, deterministic set). `baseImage: 'shared'`
 * makes every VM a clone of one template (their first backups deduplicate, as clones do);
 * `'per-vm'` gives each VM its own content. `tags` are the VMs' tags (for policy selectors).
 */
import { z } from 'zod';

const MAX_SIM_DISK_BYTES = 64 * 1024 * 1024 * 1024;

/** How simulated disks look and change (shared by the `sim` hypervisor and the sim agent group). */
export const SimDiskSettings = z.strictObject({
  seed: z.union([z.string().min(1, 'must not be empty'), z.number().int()]).default('bulwark-sim'),
  disksPerVm: z.number().int('must be a whole number').min(1, 'must be at least 1').max(16, 'must be at most 16').default(1),
  diskSizeBytes: z
    .number()
    .int('must be a whole number')
    .min(4096, 'must be at least 4096')
    .max(MAX_SIM_DISK_BYTES, `must be at most ${MAX_SIM_DISK_BYTES} (64 GiB)`)
    .default(1024 * 1024),
  blockBytes: z
    .number()
    .int('must be a whole number')
    .min(4096, 'must be at least 4096')
    .max(16 * 1024 * 1024, 'must be at most 16 MiB')
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(64 * 1024),
  changeFraction: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(0.02),
  baseImage: z.enum(['shared', 'per-vm'], { error: 'must be shared or per-vm' }).default('shared'),
  tags: z.array(z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters')).default([]),
});

/** The `hypervisor` section of an agent with simulated VMs (scale tests only). */
export const SimHypervisor = SimDiskSettings.extend({
  kind: z.literal('sim'),
  namePrefix: z
    .string()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-", starting with a letter or digit')
    .default('sim-vm'),
  vmCount: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(100_000, 'must be at most 100000'),
  firstIndex: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(99_999, 'must be at most 99999').default(0),
})
  .refine((h) => h.diskSizeBytes % h.blockBytes === 0, { path: ['diskSizeBytes'], message: 'must be a multiple of blockBytes' })
  .refine((h) => h.firstIndex + h.vmCount <= 100_000, { path: ['vmCount'], message: 'firstIndex + vmCount must be at most 100000 (five-digit VM indexes)' });
export type SimHypervisorConfig = z.output<typeof SimHypervisor>;
