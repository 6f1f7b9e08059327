/**
 * The config of a simulated agent group (sim-agent-group.ts; scale benches and tests only):
 * `agents` agents named `<agentIdPrefix>-<index, three digits>` (index from `firstAgent`) at
 * `site`, each with `vmsPerAgent` sim VMs named `<agent id>-<index, five digits>` whose disks follow
 * `sim` (the sim hypervisor's content settings). `storageToken`/`storageTokenFile` is the agents'
 * storage credential (storage addresses come with each job). `receiptsFile` (absolute) receives one
 * JSON line per job handled: its id, due time, receipt and end times, for the bench's dispatch
 * latencies (written every half second and at stop).
 */
import { z } from 'zod';
import { loadConfigFile } from '../shared/config/load-config.js';
import { SiteId } from '../shared/ids.js';
import { SimDiskSettings } from './hypervisors/sim/sim-config.js';

const AbsolutePath = z.string().startsWith('/', 'must be an absolute path');

export const SimAgentGroupConfig = z
  .strictObject({
    site: SiteId,
    agentIdPrefix: SiteId.max(56, 'must be at most 56 characters (agent ids add "-NNN")'),
    agents: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
    firstAgent: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(999, 'must be at most 999').default(0),
    vmsPerAgent: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(10_000, 'must be at most 10000'),
    sim: SimDiskSettings.default(SimDiskSettings.parse({})),
    nats: z.strictObject({ url: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'must be a nats:// URL') }),
    storageToken: z.string().min(16, 'must be at least 16 characters').optional(),
    storageTokenFile: AbsolutePath.optional(),
    receiptsFile: AbsolutePath,
    heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(2000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  })
  .refine((c) => c.sim.diskSizeBytes % c.sim.blockBytes === 0, { path: ['sim', 'diskSizeBytes'], message: 'must be a multiple of blockBytes' })
  .refine((c) => c.firstAgent + c.agents <= 1000, { path: ['agents'], message: 'firstAgent + agents must be at most 1000 (three-digit agent indexes)' })
  .refine((c) => !(c.storageToken !== undefined && c.storageTokenFile !== undefined), {
    path: ['storageTokenFile'],
    message: 'give storageToken or storageTokenFile, not both',
  });
export type SimAgentGroupConfig = z.output<typeof SimAgentGroupConfig>;

/** One line of the receipts file. */
export interface JobReceipt {
  readonly jobId: string;
  readonly worker: string;
  readonly kind: string;
  /** When the job became due: its dueAt, else its createdAt (ms since the epoch). */
  readonly dueMs: number;
  readonly receivedMs: number;
  /** When the handler ended, and whether it succeeded (a line is written when the handler ends). */
  readonly endedMs?: number;
  readonly ok?: boolean;
}

/** The id of the group's agent with this index. */
export function simAgentId(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(3, '0')}`;
}

/** Reads and validates a group's config file; errors name the file, the field and the rule. */
export function loadSimAgentGroupConfig(path: string): Readonly<SimAgentGroupConfig> {
  return loadConfigFile(SimAgentGroupConfig, path);
}
