/**
 * bulwark-sim-agent-group: many simulated agents in one process, for scale benches and tests only
 * (never a production agent). Each agent is what node-agent/main.ts builds, minus the real
 * hypervisor: its own NATS connection, its own durable consumer through the JobWorker, its own
 * heartbeats and inventory, the agent's job handler, and a `sim` driver with its own VMs (no
 * encryption, hashing on the main thread). Each job's receipt (due time, receipt time, end time)
 * goes to `receiptsFile` as a JSON line, so a bench can time dispatch from the job's due time
 * (dueAt, else createdAt) to the worker receiving it. Config: sim-agent-group-config.ts.
 */
import { appendFileSync } from 'node:fs';
import type { NatsConnection } from 'nats';
import { systemClock } from '../shared/clock.js';
import { readTokenSource } from '../shared/config/token-source.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { HeartbeatSender } from '../shared/nats/heartbeat-sender.js';
import { JobWorker } from '../shared/nats/job-worker.js';
import { connectNats } from '../shared/nats/nats-connection.js';
import { runDaemon } from '../shared/process/daemon.js';
import { GrpcBlockStore } from './adapters/grpc-block-store.js';
import { InlineChunkProcessor } from './adapters/inline-chunk-processor.js';
import { createAgentJobHandler } from './events/agent-job-handler.js';
import { startInventoryReports } from './events/inventory-reports.js';
import { SimHypervisor } from './hypervisors/sim/sim-config.js';
import { SimDriver } from './hypervisors/sim/sim-driver.js';
import { rawFileTargets } from './restore/raw-file-target.js';
import { loadSimAgentGroupConfig, simAgentId, type JobReceipt, type SimAgentGroupConfig } from './sim-agent-group-config.js';

const RECEIPTS_FLUSH_MS = 500;

interface SimAgent {
  readonly worker: string;
  readonly vms: number;
  stop(): Promise<void>;
}

/** Buffers receipt lines and appends them to the file every half second and at the end. */
class ReceiptLog {
  private lines: string[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string) {
    this.timer = setInterval(() => this.flush(), RECEIPTS_FLUSH_MS);
  }

  add(receipt: JobReceipt): void {
    this.lines.push(JSON.stringify(receipt));
  }

  flush(): void {
    if (this.lines.length === 0) return;
    appendFileSync(this.path, `${this.lines.join('\n')}\n`);
    this.lines = [];
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

async function startSimAgent(
  config: Readonly<SimAgentGroupConfig>,
  index: number,
  storageToken: string | undefined,
  receipts: ReceiptLog,
  rootLog: Logger,
): Promise<SimAgent> {
  const { site } = config;
  const worker = simAgentId(config.agentIdPrefix, index);
  const log = rootLog.child({ site, worker });
  const driver = new SimDriver(SimHypervisor.parse({ ...config.sim, kind: 'sim', namePrefix: worker, vmCount: config.vmsPerAgent }), systemClock);
  const nc: NatsConnection = await connectNats(config.nats.url, `bulwark-sim-agent-${site}-${worker}`, log);
  const handler = createAgentJobHandler({
    driver,
    clock: systemClock,
    keys: null,
    openProcessor: (k) => new InlineChunkProcessor(k),
    diskTargets: rawFileTargets,
    openBlockStore: (address) => new GrpcBlockStore(address, { token: storageToken }),
  });
  const received = new Map<string, JobReceipt>();
  const jobWorker = new JobWorker({
    nc,
    site,
    worker,
    log,
    clock: systemClock,
    onReceived: (job, receivedMs) => {
      const receipt = { jobId: job.jobId, worker, kind: job.kind, dueMs: Date.parse(job.dueAt ?? job.createdAt), receivedMs };
      received.set(`${job.jobId}/${job.attempt}`, receipt);
    },
    handler: async (job, ctx) => {
      const key = `${job.jobId}/${job.attempt}`;
      const ended = (ok: boolean) => {
        const receipt = received.get(key);
        received.delete(key);
        if (receipt) receipts.add({ ...receipt, endedMs: systemClock.nowMs(), ok });
      };
      try {
        const result = await handler(job, ctx);
        ended(true);
        return result;
      } catch (err) {
        ended(false);
        throw err;
      }
    },
  });
  await jobWorker.start();
  const inventoryReports = await startInventoryReports({
    nc,
    publisher: jobWorker.publisher,
    site,
    worker,
    clock: systemClock,
    inventory: () => driver.inventory(),
    log,
  });
  const heartbeat = new HeartbeatSender(
    nc,
    systemClock,
    () => ({ site, worker, kind: 'agent', version: 'sim', address: null, runningJobs: jobWorker.runningJobs }),
    config.heartbeatIntervalMs,
  );
  heartbeat.start();
  return {
    worker,
    vms: config.vmsPerAgent,
    stop: async () => {
      heartbeat.stop();
      inventoryReports.stop();
      await jobWorker.stop();
      await nc.drain();
    },
  };
}

runDaemon('bulwark-sim-agent-group', async (configPath, rootLog) => {
  if (!configPath) throw new ConfigError('command line', '--config', 'is required');
  const config = loadSimAgentGroupConfig(configPath);
  rootLog.level = config.logLevel;
  const storageToken = readTokenSource({ token: config.storageToken, tokenFile: config.storageTokenFile }, configPath, 'storageToken');
  const receipts = new ReceiptLog(config.receiptsFile);
  const agents: SimAgent[] = [];
  const stopAll = async () => {
    await Promise.all(agents.map((a) => a.stop().catch((err: unknown) => rootLog.warn({ err, worker: a.worker }, 'stopping a simulated agent failed'))));
    receipts.close();
  };
  try {
    // A few at a time: each creates its consumer and reports its inventory.
    const indexes = Array.from({ length: config.agents }, (_, i) => config.firstAgent + i);
    for (let i = 0; i < indexes.length; i += 10) {
      agents.push(...(await Promise.all(indexes.slice(i, i + 10).map((index) => startSimAgent(config, index, storageToken, receipts, rootLog)))));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  rootLog.info({ agents: agents.length, vms: agents.length * config.vmsPerAgent }, 'simulated agents running');
  return {
    ready: { site: config.site, agents: agents.map((a) => a.worker), vms: agents.length * config.vmsPerAgent },
    stop: stopAll,
  };
});
