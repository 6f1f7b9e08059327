/**
 * The scale bench (issue 7, item 8): a real nats-server, storage daemon and controller (SQLite
 * catalog), and simulated agents (node-agent/sim-agent-group.ts: one process per group of agents,
 * each agent with its own NATS connection, durable consumer, heartbeats, inventory and sim VMs).
 * It waits until the catalog holds every VM, then makes jobs due at a fixed rate for a fixed time,
 * round-robin over the agents: through policies (`--scale-driver policy`, the default: one policy
 * per second of the drive, its cron due at that second, covering `rate` VMs, each VM due at its own
 * offset within the second by the policy's spread (`--scale-spread-ms`, 0: all at once); the policy scheduler
 * makes the jobs and stamps their dueAt: snapshot-management policies by default, each job a
 * snapshot create on the sim keeping 2, or backup policies with `--scale-job backup`), or through
 * the controller's API (`--scale-driver api`: snapshot lists, or backups with `--scale-job
 * backup`; due when created). It reports:
 * jobs due, dispatched and finished per second; dispatch latency (the worker's receipt time minus
 * the job's dueAt, else its createdAt, which the controller stamps before it stores and publishes
 * the job) as p50/p95/p99/max, split at the catalog's published_at; controller peak RSS (VmHWM)
 * and sampled RSS (VmRSS); CPU of every process; job end-to-end time (created → finished in the
 * catalog); failures. It ends by backing one VM up twice and restoring the newest, compared byte
 * for byte with what the sim says the disk held.
 *
 * Run alone: `npx tsx bench/scale-bench.ts [--json] [--scale-vms 10000] [--scale-agents 200]
 * [--scale-seconds 60] [--scale-rate 100] [--agents-per-group 20] [--scale-job snapshot|backup]
 * [--scale-driver policy|api] [--keep]`; `npm run bench` includes it (data-path.ts). The drive's
 * jobs are snapshot jobs by default (control plane only: at 100 jobs/s, a backup's data path
 * costs more CPU than two cores have, see docs/PERFORMANCE.md "Scale").
 * BULWARK_SCALE_CONTROLLER_NODE_ARGS passes Node flags to the controller only (e.g. --cpu-prof), or to the
 * processes BULWARK_SCALE_NODE_ARGS_FOR names (e.g. controller,agents-00).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ControllerApi } from '../controller/cli/controller-api.js';
import { ManagedProcess, tsxCommand } from '../controller/cli/up/managed-process.js';
import { NatsServerProcess } from '../controller/cli/up/nats-server-process.js';
import { ControllerConfig } from '../controller/config.js';
import { SimHypervisor } from '../node-agent/hypervisors/sim/sim-config.js';
import { SimDiskModel, simVmName } from '../node-agent/hypervisors/sim/sim-disk-model.js';
import { simAgentId, type JobReceipt } from '../node-agent/sim-agent-group-config.js';
import { RestoreResult } from '../shared/messages/results.js';
import type { Job__Output } from '../shared/rpc/generated/bulwark/v1/Job.js';
import { cpuSeconds, peakRssBytes } from './measure.js';

const SITE = 'a';
/** Policy driver: the snapshots each snapshot policy keeps per VM. */
const SNAPSHOT_KEEP = 2;
const CHUNK_BYTES = 64 * 1024;

export const ScaleOptions = z
  .object({
    vms: z.number().int('--scale-vms: must be a whole number').min(0, '--scale-vms: 0 (skip) or more').max(100_000, '--scale-vms: at most 100000'),
    agents: z.number().int('--scale-agents: must be a whole number').min(1, '--scale-agents: at least 1').max(1000, '--scale-agents: at most 1000'),
    seconds: z.number().int('--scale-seconds: must be a whole number').min(1, '--scale-seconds: at least 1').max(3600, '--scale-seconds: at most 3600'),
    rate: z.number().min(0.1, '--scale-rate: at least 0.1 jobs/s').max(5000, '--scale-rate: at most 5000 jobs/s'),
    agentsPerGroup: z.number().int('--agents-per-group: must be a whole number').min(1, '--agents-per-group: at least 1').max(1000),
    /**
     * What the drive starts: `snapshot` (policy driver: a snapshot create keeping 2, from a
     * snapshot-management policy; api driver: a snapshot list; either way the whole control plane
     * and no data path) or `backup` (a backup of the sim VM into storage: the data path too).
     */
    job: z.enum(['snapshot', 'backup'], { error: '--scale-job: must be snapshot or backup' }).default('snapshot'),
    /**
     * How jobs become due: `policy` (one policy per second of the drive with a cron due at that
     * second, covering `rate` VMs; the policy scheduler makes the jobs; latency from their dueAt,
     * the definition) or `api` (the bench calls the API at the rate; latency from createdAt).
     */
    driver: z.enum(['api', 'policy'], { error: '--scale-driver: must be api or policy' }).default('policy'),
    /**
     * Policy driver: each policy's spreadMs (its schedule's spread). 1000 (default): a second's jobs
     * each due at its VM's own offset in that second, a sustained rate; 0: all due at the second
     * itself, a burst of `rate` jobs at one instant.
     */
    spreadMs: z.number().int('--scale-spread-ms: must be a whole number').min(0, '--scale-spread-ms: 0 or more').max(60_000, '--scale-spread-ms: at most 60000').default(1000),
    /** Policy driver: time to create the policies and let the scheduler arm before the first is due. */
    policyLeadMs: z.number().int().min(1000).default(20_000),
    diskSizeBytes: z.number().int().min(CHUNK_BYTES).default(256 * 1024),
    changeFraction: z.number().min(0).max(1).default(0.25),
    seed: z.union([z.string(), z.number()]).default('scale-bench'),
    /**
     * A pause between the inventory being complete and the drive: the controller has just applied
     * every VM (its first RPO evaluation of them, the WAL checkpoint) and the agent groups have just
     * started; the drive measures the steady state after that.
     */
    settleMs: z.number().int().nonnegative().default(10_000),
    /** How long to wait for the last jobs after the drive ends. */
    drainTimeoutMs: z.number().int().positive().default(180_000),
  })
  .refine((o) => o.vms === 0 || o.driver === 'api' || (Number.isInteger(o.rate) && o.rate * o.seconds <= o.vms), {
    message: '--scale-driver policy: --scale-rate must be a whole number and rate × seconds at most --scale-vms (each VM is due once)',
  })
  .refine((o) => o.vms === 0 || o.vms % o.agents === 0, { message: '--scale-vms must be a multiple of --scale-agents (each agent gets the same number of VMs)' });
export type ScaleOptions = z.input<typeof ScaleOptions>;

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface ScaleReport {
  readonly vms: number;
  readonly agents: number;
  readonly agentGroups: number;
  readonly targetRate: number;
  readonly seconds: number;
  /** What each job of the drive was (snapshot: a create from a snapshot policy, or a list through the API), and how it became due. */
  readonly job: 'snapshot' | 'backup';
  readonly driver: 'api' | 'policy';
  /** Policy driver: the policies' spread (0: each second's jobs all due at one instant). */
  readonly spreadMs: number;
  readonly simDisk: { readonly sizeBytes: number; readonly changeFraction: number; readonly chunkSizeBytes: number };
  readonly setupSeconds: { readonly processes: number; readonly inventory: number };
  readonly jobs: {
    readonly started: number;
    readonly dispatched: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly unfinished: number;
    /** Jobs received by a worker per second of the drive, over the drive's seconds. */
    readonly dispatchedPerSecond: number;
    readonly finishedPerSecond: number;
  };
  /** Per second of the drive (index 0: its first second). */
  readonly perSecond: { readonly due: number[]; readonly dispatched: number[]; readonly finished: number[] };
  /** Receipt time − due time (dueAt, else createdAt), ms. */
  readonly dispatchLatencyMs: Percentiles;
  /** Per agent group: the same, from its own receipts. */
  readonly dispatchLatencyByGroupMs: Record<string, Percentiles>;
  /**
   * Where dispatch time goes: due → marked published in the catalog (the dispatch pass, the
   * JetStream publish and its ack), and published → received by the worker (JetStream delivery,
   * the worker's pull; negative values are the catalog stamping published after the worker got it).
   */
  readonly dispatchStagesMs: {
    /**
     * Policy jobs: dueAt → createdAt, negative when the scheduler made the job ahead of its due time
     * (its prepare lead, or a spread VM's offset) and held it; api jobs: 0.
     */
    readonly dueToCreated: Percentiles;
    /** dueAt (else createdAt) → published_at. */
    readonly dueToPublished: Percentiles;
    readonly publishedToReceived: Percentiles;
  };
  /** The bench's StartBackup call → the worker's receipt, ms (includes the API call). */
  readonly requestToReceiptMs: Percentiles;
  /** created → finished in the catalog, ms. */
  readonly endToEndMs: Percentiles;
  readonly controller: {
    readonly peakRssBytes: number;
    readonly rssSampledMaxBytes: number;
    readonly rssSampledMeanBytes: number;
    /** CPU seconds over the drive and drain, and as a share of one core. */
    readonly cpuSeconds: number;
    readonly cpuPercentOfOneCore: number;
  };
  readonly cpuSecondsByProcess: Record<string, number>;
  readonly peakRssByProcess: Record<string, number>;
  readonly restoredIdentical: boolean;
  /** Why the sample backup and restore did not complete, or null. */
  readonly sampleError: string | null;
  /** StartBackup/StartSnapshot calls of the drive that failed, and the first error. */
  readonly apiErrors: { readonly count: number; readonly first: string | null };
  readonly targets: { readonly p99DispatchMs: number; readonly controllerRssBytes: number; readonly p99Met: boolean; readonly rssMet: boolean; readonly rateMet: boolean };
  readonly loadAverage1m: { readonly atStart: number; readonly atEnd: number };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles of `values` (ms), rounded to 0.1. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  const mean = sorted.length === 0 ? 0 : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { count: sorted.length, p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(sorted[sorted.length - 1] ?? 0), mean: round(mean) };
}

/** Counts of `timesMs` per second from `startMs`, over `seconds` seconds (later ones in the last bucket). */
export function perSecond(timesMs: readonly number[], startMs: number, seconds: number): number[] {
  const counts = new Array<number>(seconds).fill(0);
  for (const t of timesMs) {
    const i = Math.min(seconds - 1, Math.max(0, Math.floor((t - startMs) / 1000)));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** The controller config, keeping only the fields this controller's schema knows (access and scheduler limits come with other parts of issue 7). */
function controllerConfig(natsUrl: string, databasePath: string): Record<string, unknown> {
  const wanted: Record<string, unknown> = {
    listen: '127.0.0.1:0',
    nats: { url: natsUrl },
    databasePath,
    logLevel: 'warn',
    // The bench calls the API without a token.
    access: { anonymousRole: 'admin' },
    // The dispatch gate must not throttle the bench: one job per agent at a time is what the agents take anyway.
    scheduler: { maxJobsPerAgent: 1000, maxJobsPerSite: 100_000 },
  };
  const known = new Set(Object.keys(ControllerConfig.shape));
  return Object.fromEntries(Object.entries(wanted).filter(([k]) => known.has(k)));
}

interface Started {
  readonly vm: string;
  readonly sentMs: number;
  jobId?: string;
  error?: string;
}

/** Runs the scale scenario in `dir`; every process is stopped at the end. */
export async function benchScale(dir: string, rawOptions: ScaleOptions, say: (line: string) => void): Promise<ScaleReport> {
  const opts = ScaleOptions.parse(rawOptions);
  const loadAtStart = loadavg()[0] ?? 0;
  const vmsPerAgent = opts.vms / opts.agents;
  const groups = Math.ceil(opts.agents / opts.agentsPerGroup);
  mkdirSync(dir, { recursive: true });
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const processes: ManagedProcess[] = [];
  let nats: NatsServerProcess | undefined;
  const env = { BULWARK_LOG_LEVEL: 'warn' };
  const daemon = async (name: string, entry: string, config: Record<string, unknown>, readyTimeoutMs = 60_000) => {
    const configFile = join(dir, `${name}.json`);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const readyFile = join(dir, `${name}.ready.json`);
    const tsx = tsxCommand(entry, ['--config', configFile, '--ready-file', readyFile]);
    const { command } = tsx;
    // BULWARK_SCALE_CONTROLLER_NODE_ARGS: Node flags for the controller only (e.g. --cpu-prof --cpu-prof-dir=/tmp/p),
    // or for the processes BULWARK_SCALE_NODE_ARGS_FOR names (comma-separated, e.g. controller,agents-00).
    const flagged = (process.env.BULWARK_SCALE_NODE_ARGS_FOR ?? 'controller').split(',');
    const extra = flagged.includes(name) ? (process.env.BULWARK_SCALE_CONTROLLER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '') : [];
    const args = [...extra, ...tsx.args];
    const proc = new ManagedProcess({ name, command, args, env, logFile: join(logs, `${name}.log`), readyFile, readyTimeoutMs });
    processes.push(proc);
    return { proc, ready: JSON.parse(await proc.start()) as Record<string, unknown> };
  };
  const stopAll = async () => {
    const controllerProc = processes.find((p) => p.opts.name === 'controller');
    await Promise.all(processes.filter((p) => p !== controllerProc).map((p) => p.stop()));
    await controllerProc?.stop();
    await nats?.stop();
  };

  try {
    const t0 = Date.now();
    nats = await NatsServerProcess.start(join(dir, 'nats'));
    const databasePath = join(dir, 'catalog.db');
    const controller = await daemon('controller', 'controller/main.ts', controllerConfig(nats.url, databasePath));
    const controllerPid = controller.proc.pid ?? 0;
    const storage = await daemon('storage', 'storage/main.ts', {
      site: SITE,
      worker: 'storage',
      datastoreDir: join(dir, 'datastore'),
      listen: '127.0.0.1:0',
      nats: { url: nats.url },
      chunkSizeBytes: CHUNK_BYTES,
      logLevel: 'warn',
    });
    const sim = { seed: opts.seed, diskSizeBytes: opts.diskSizeBytes, blockBytes: CHUNK_BYTES, changeFraction: opts.changeFraction };
    const receiptFiles: Record<string, string> = {};
    const groupProcs: ManagedProcess[] = [];
    say(`scale: starting ${opts.agents} simulated agents in ${groups} processes (${vmsPerAgent} VMs each)`);
    await Promise.all(
      Array.from({ length: groups }, async (_, g) => {
        const name = `agents-${String(g).padStart(2, '0')}`;
        const first = g * opts.agentsPerGroup;
        receiptFiles[name] = join(dir, `${name}.receipts.jsonl`);
        const { proc } = await daemon(
          name,
          'node-agent/sim-agent-group.ts',
          {
            site: SITE,
            agentIdPrefix: 'sim',
            firstAgent: first,
            agents: Math.min(opts.agentsPerGroup, opts.agents - first),
            vmsPerAgent,
            sim,
            nats: { url: nats?.url },
            receiptsFile: receiptFiles[name],
            logLevel: 'warn',
          },
          180_000,
        );
        groupProcs.push(proc);
      }),
    );
    const processesSeconds = (Date.now() - t0) / 1000;
    say(`scale: processes up in ${processesSeconds.toFixed(1)} s; waiting for ${opts.vms} VMs in the catalog`);

    const db = new Database(databasePath, { readonly: true, fileMustExist: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const t1 = Date.now();
    for (;;) {
      const vms = count('SELECT count(*) AS n FROM vms');
      const workers = count(`SELECT count(*) AS n FROM workers WHERE state = 'online'`);
      if (vms >= opts.vms && workers >= opts.agents + 1) break;
      if (Date.now() - t1 > 300_000) throw new Error(`only ${vms} of ${opts.vms} VMs and ${workers} online workers in the catalog after 300 s`);
      await sleep(500);
    }
    const inventorySeconds = (Date.now() - t1) / 1000;
    await sleep(opts.settleMs);
    say(`scale: inventory complete in ${inventorySeconds.toFixed(1)} s; driving ${opts.rate} jobs/s for ${opts.seconds} s`);

    const api = new ControllerApi({ address: String(controller.ready.address), source: 'scale-bench' });
    await api.connect();
    const pids: Record<string, number> = { controller: controllerPid, storage: storage.proc.pid ?? 0, 'nats-server': nats.process.pid ?? 0 };
    groupProcs.forEach((p) => (pids[p.opts.name] = p.pid ?? 0));
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const rssSamples: number[] = [];
    const sampler = setInterval(() => rssSamples.push(rssBytes(controllerPid)), 1000);

    // Round-robin over the agents: consecutive jobs go to different agents, and VM k of each agent before VM k+1.
    const total = Math.round(opts.rate * opts.seconds);
    const vmOf = (i: number) => simVmName(simAgentId('sim', i % opts.agents), Math.floor(i / opts.agents) % vmsPerAgent);
    const started: Started[] = [];
    const inFlight = new Set<Promise<void>>();
    let driveStart = Date.now() + 200;
    if (opts.driver === 'policy') {
      // One policy per second of the drive, covering that second's VMs, its 6-field cron due at
      // exactly that second (UTC): the policy scheduler makes the jobs and stamps their dueAt.
      driveStart = Math.ceil((Date.now() + opts.policyLeadMs) / 1000) * 1000;
      const perSlot = Math.round(opts.rate);
      for (let slot = 0; slot < opts.seconds; slot++) {
        const at = new Date(driveStart + slot * 1000);
        const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
        const vms = Array.from({ length: perSlot }, (_, k) => vmOf(slot * perSlot + k));
        const action = opts.job === 'snapshot' ? { action: 'snapshot', snapshotKeep: SNAPSHOT_KEEP } : {};
        const schedule = { cron: [cron], timezone: 'UTC', spreadMs: opts.spreadMs };
        await api.createPolicy(JSON.stringify({ name: `scale-${slot}`, ...action, schedule, selector: { vms }, retry: { maxAttempts: 1 } }));
      }
      const shape = opts.spreadMs > 0 ? `each spread over ${opts.spreadMs} ms` : 'each all due at its second';
      say(`scale: ${opts.seconds} ${opts.job} policies of ${perSlot} VMs ${shape}, due from ${new Date(driveStart).toISOString()}`);
      await sleep(driveStart + opts.seconds * 1000 + opts.spreadMs + 1000 - Date.now());
      const due = db.prepare(`SELECT id, vm, due_at AS dueAt FROM jobs WHERE policy LIKE 'scale-%'`).all() as { id: string; vm: string; dueAt: string | null }[];
      for (const j of due) started.push({ vm: j.vm, sentMs: Date.parse(j.dueAt ?? ''), jobId: j.id });
    }
    for (let i = 0; opts.driver === 'api' && i < total; i++) {
      const due = driveStart + (i * 1000) / opts.rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      const entry: Started = { vm: vmOf(i), sentMs: Date.now() };
      started.push(entry);
      const start = opts.job === 'backup' ? api.startBackup({ vm: entry.vm, mode: 'auto' }) : api.startSnapshot({ vm: entry.vm, op: 'list', name: '', keep: 0 });
      const call: Promise<void> = start.then(
        (job: Job__Output) => {
          entry.jobId = job.id;
        },
        (err: unknown) => {
          entry.error = err instanceof Error ? err.message : String(err);
        },
      ).finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    await Promise.all(inFlight);
    // Policy jobs are due through the last second of the drive.
    const driveEnd = opts.driver === 'policy' ? driveStart + (opts.seconds - 1) * 1000 + Math.max(1000, opts.spreadMs) : Date.now();
    const jobIds = new Set(started.flatMap((s) => (s.jobId ? [s.jobId] : [])));
    say(`scale: ${jobIds.size} jobs started in ${((driveEnd - driveStart) / 1000).toFixed(1)} s; waiting for them to finish`);

    const finishedCount = () => count(`SELECT count(*) AS n FROM jobs WHERE state IN ('succeeded', 'failed')`);
    const drainStart = Date.now();
    while (finishedCount() < jobIds.size && Date.now() - drainStart < opts.drainTimeoutMs) await sleep(500);
    const drainEnd = Date.now();
    clearInterval(sampler);
    const cpuSecondsByProcess = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, round(cpuSeconds(pid) - (cpuBefore[name] ?? 0), 2)]));
    const peakRssByProcess = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, peakRssBytes(pid)]));

    // The sample: two backups of one VM (a full, then an incremental of the next generation), the
    // newest restored and compared with what the sim says the disk holds at that generation.
    const sampleVm = vmOf(total > 0 ? total - 1 : 0);
    let restoredIdentical = false;
    let sampleError: string | null = null;
    try {
      await finished(api, await api.startBackup({ vm: sampleVm, mode: 'auto' }));
      const newest = await finished(api, await api.startBackup({ vm: sampleVm, mode: 'auto' }));
      const backupId = (JSON.parse(newest.resultJson || '{}') as { backup?: { backupId?: string } }).backup?.backupId ?? '';
      const backupsOfSample = count(`SELECT count(*) AS n FROM jobs WHERE kind = 'backup' AND vm = '${sampleVm}'`);
      const restore = await finished(api, await api.startRestore({ backupId, targetDir: join(dir, 'restore') }));
      const result = RestoreResult.parse(JSON.parse(restore.resultJson));
      const model = new SimDiskModel(SimHypervisor.parse({ kind: 'sim', ...sim, namePrefix: sampleVm.slice(0, sampleVm.lastIndexOf('-')), vmCount: vmsPerAgent }));
      restoredIdentical =
        result.disks.length === 1 && result.disks.every((d) => readFileSync(d.path).equals(model.diskBytes(sampleVm, d.name, backupsOfSample - 1)));
    } catch (err) {
      sampleError = err instanceof Error ? err.message : String(err);
      say(`scale: the sample backup and restore failed: ${sampleError}`);
    }

    const groupStop = Promise.all(groupProcs.map((p) => p.stop()));
    await groupStop;
    const receiptsByGroup = Object.fromEntries(
      Object.entries(receiptFiles).map(([name, file]) => [
        name,
        existsSync(file)
          ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as JobReceipt).filter((r) => jobIds.has(r.jobId))
          : [],
      ]),
    );
    const receipts = Object.values(receiptsByGroup).flat();
    const latency = (r: JobReceipt) => r.receivedMs - r.dueMs;
    const sentOf = new Map(started.flatMap((s) => (s.jobId ? [[s.jobId, s.sentMs] as const] : [])));
    const rows = db
      .prepare(`SELECT id, state, due_at AS dueAt, created_at AS createdAt, published_at AS publishedAt, finished_at AS finishedAt FROM jobs`)
      .all() as { id: string; state: string; dueAt: string | null; createdAt: string; publishedAt: string | null; finishedAt: string | null }[];
    db.close();
    const ours = rows.filter((r) => jobIds.has(r.id));
    const publishedOf = new Map(ours.map((r) => [r.id, r.publishedAt]));
    const finishedRows = ours.filter((r) => r.finishedAt !== null);
    const seconds = opts.seconds;
    const window = Math.max(1, (driveEnd - driveStart) / 1000);
    const dispatchedInDrive = receipts.filter((r) => r.receivedMs <= driveEnd).length;
    const dispatch = percentiles(receipts.map(latency));
    const controllerPeak = peakRssByProcess.controller ?? 0;
    const cpu = cpuSecondsByProcess.controller ?? 0;
    return {
      vms: opts.vms,
      agents: opts.agents,
      agentGroups: groups,
      targetRate: opts.rate,
      seconds,
      job: opts.job,
      driver: opts.driver,
      spreadMs: opts.driver === 'policy' ? opts.spreadMs : 0,
      simDisk: { sizeBytes: opts.diskSizeBytes, changeFraction: opts.changeFraction, chunkSizeBytes: CHUNK_BYTES },
      setupSeconds: { processes: round(processesSeconds), inventory: round(inventorySeconds) },
      jobs: {
        started: jobIds.size,
        dispatched: receipts.length,
        succeeded: ours.filter((r) => r.state === 'succeeded').length,
        failed: ours.filter((r) => r.state === 'failed').length + started.filter((s) => s.error !== undefined).length,
        unfinished: ours.length - finishedRows.length,
        dispatchedPerSecond: round(dispatchedInDrive / window),
        finishedPerSecond: round(finishedRows.length / Math.max(1, (drainEnd - driveStart) / 1000)),
      },
      perSecond: {
        due: perSecond(started.map((s) => s.sentMs), driveStart, seconds),
        dispatched: perSecond(receipts.map((r) => r.receivedMs), driveStart, seconds),
        finished: perSecond(finishedRows.map((r) => Date.parse(r.finishedAt ?? '')), driveStart, seconds),
      },
      dispatchLatencyMs: dispatch,
      dispatchLatencyByGroupMs: Object.fromEntries(Object.entries(receiptsByGroup).map(([name, rs]) => [name, percentiles(rs.map(latency))])),
      dispatchStagesMs: {
        dueToCreated: percentiles(ours.map((r) => (r.dueAt ? Date.parse(r.createdAt) - Date.parse(r.dueAt) : 0))),
        dueToPublished: percentiles(ours.flatMap((r) => (r.publishedAt ? [Date.parse(r.publishedAt) - Date.parse(r.dueAt ?? r.createdAt)] : []))),
        publishedToReceived: percentiles(receipts.flatMap((r) => {
          const publishedAt = publishedOf.get(r.jobId);
          return publishedAt ? [r.receivedMs - Date.parse(publishedAt)] : [];
        })),
      },
      requestToReceiptMs: percentiles(receipts.map((r) => r.receivedMs - (sentOf.get(r.jobId) ?? r.dueMs))),
      endToEndMs: percentiles(finishedRows.map((r) => Date.parse(r.finishedAt ?? '') - Date.parse(r.createdAt))),
      controller: {
        peakRssBytes: controllerPeak,
        rssSampledMaxBytes: Math.max(0, ...rssSamples),
        rssSampledMeanBytes: Math.round(rssSamples.reduce((s, v) => s + v, 0) / Math.max(1, rssSamples.length)),
        cpuSeconds: cpu,
        cpuPercentOfOneCore: round((100 * cpu) / Math.max(1, (drainEnd - driveStart) / 1000)),
      },
      cpuSecondsByProcess,
      peakRssByProcess,
      restoredIdentical,
      sampleError,
      apiErrors: { count: started.filter((x) => x.error !== undefined).length, first: started.find((x) => x.error !== undefined)?.error ?? null },
      targets: {
        p99DispatchMs: 50,
        controllerRssBytes: 300 * 1024 * 1024,
        p99Met: dispatch.count > 0 && dispatch.p99 < 50,
        rssMet: controllerPeak < 300 * 1024 * 1024,
        rateMet: dispatchedInDrive / window >= opts.rate * 0.95,
      },
      loadAverage1m: { atStart: round(loadAtStart, 2), atEnd: round(loadavg()[0] ?? 0, 2) },
    };
  } finally {
    await stopAll();
  }
}

async function finished(api: ControllerApi, started: Job__Output): Promise<Job__Output> {
  for (;;) {
    for await (const job of api.watchJob(started.id)) {
      if (job.state === 'succeeded') return job;
      if (job.state === 'failed') throw new Error(`${started.kind} job ${started.id} failed: ${job.error}`);
    }
  }
}

/** Command-line flags shared with data-path.ts. */
export const scaleFlags = {
  'scale-vms': { type: 'string', default: '10000' },
  'scale-agents': { type: 'string', default: '200' },
  'scale-seconds': { type: 'string', default: '60' },
  'scale-rate': { type: 'string', default: '100' },
  'agents-per-group': { type: 'string', default: '20' },
  'scale-job': { type: 'string', default: 'snapshot' },
  'scale-driver': { type: 'string', default: 'policy' },
  'scale-spread-ms': { type: 'string', default: '1000' },
} as const;

/** The scale options from parsed flags (numbers checked by ScaleOptions). */
export function scaleOptionsOf(values: Record<string, string | boolean | undefined>): ScaleOptions {
  const num = (k: string) => Number(values[k]);
  return { vms: num('scale-vms'), agents: num('scale-agents'), seconds: num('scale-seconds'), rate: num('scale-rate'), agentsPerGroup: num('agents-per-group'), job: values['scale-job'] as 'snapshot' | 'backup', driver: values['scale-driver'] as 'api' | 'policy', spreadMs: num('scale-spread-ms') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { ...scaleFlags, json: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });
  const parsed = ScaleOptions.safeParse(scaleOptionsOf(values));
  if (!parsed.success) {
    console.error(`scale-bench: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    process.exit(2);
  }
  const started = Date.now();
  const say = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-scale-'));
  try {
    const report = await benchScale(dir, scaleOptionsOf(values), say);
    console.log(values.json ? JSON.stringify({ scale: report }) : JSON.stringify({ scale: report }, null, 2));
    if (!report.restoredIdentical) process.exitCode = 1;
  } finally {
    if (values.keep) console.error(`scale-bench: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
