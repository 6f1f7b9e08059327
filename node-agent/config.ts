/**
 * The agent's configuration file (JSON): its site and worker id, NATS, and its hypervisor. The
 * `files` hypervisor declares VMs as named sets of raw disk image files. `encryption` names the
 * datastore key file and the file holding its passphrase (both absolute paths); `chunkWorkers` is
 * the number of threads that hash, compress and encrypt (default one per core; 0: none, all on
 * the main thread).
 */
import { z } from 'zod';
import { loadConfigFile } from '../shared/config/load-config.js';
import { ObjectName, SiteId, WorkerId } from '../shared/ids.js';

const AbsolutePath = z.string().startsWith('/', 'must be an absolute path');

const FilesDisk = z.strictObject({ name: ObjectName, path: AbsolutePath });

const FilesVm = z.strictObject({
  name: ObjectName,
  disks: z
    .array(FilesDisk)
    .min(1, 'a VM needs at least one disk')
    .superRefine((disks, ctx) => duplicateNames(disks, ctx, 'disk')),
});

const FilesHypervisor = z.strictObject({
  kind: z.literal('files'),
  vms: z.array(FilesVm).superRefine((vms, ctx) => duplicateNames(vms, ctx, 'VM')),
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
  hypervisor: FilesHypervisor,
  encryption: z.strictObject({ keyFile: AbsolutePath, passphraseFile: AbsolutePath }).optional(),
  chunkWorkers: z.number().int().min(0).max(64).optional(),
  heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(2000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type AgentConfig = z.output<typeof AgentConfig>;
export type FilesHypervisorConfig = z.output<typeof FilesHypervisor>;

/** Reads and validates the agent's config file; errors name the file, the field and the rule. */
export function loadAgentConfig(path: string): Readonly<AgentConfig> {
  return loadConfigFile(AgentConfig, path);
}
