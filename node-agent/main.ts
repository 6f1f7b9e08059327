/**
 * bulwark-agent: the node agent. A JetStream worker for backup, restore and snapshot jobs on its own
 * subject, with the hypervisor driver its config names (`files`; `qemu`: QMP, fleecing, NBD,
 * qcow2 internal snapshots;
 * `libvirt`: virsh checkpoints and pull-mode backup; `sim`: synthetic VMs, for scale tests only);
 * reports its inventory at start and heartbeats.
 * Opens its datastore key (when configured) before anything else: a wrong passphrase stops it.
 * Presents its storage token (config storageToken/storageTokenFile) on every BlockStore call.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { systemClock } from '../shared/clock.js';
import { readTokenSource } from '../shared/config/token-source.js';
import { ConfigError } from '../shared/errors.js';
import { HeartbeatSender } from '../shared/nats/heartbeat-sender.js';
import { JobWorker } from '../shared/nats/job-worker.js';
import { connectNats } from '../shared/nats/nats-connection.js';
import { runDaemon } from '../shared/process/daemon.js';
import { createMetricsRegistry, startMetricsServer } from '../shared/metrics/metrics-server.js';
import { createAgentMetrics } from './agent-metrics.js';
import { GrpcBlockStore } from './adapters/grpc-block-store.js';
import { InlineChunkProcessor } from './adapters/inline-chunk-processor.js';
import { qcow2Targets } from './adapters/qcow2-nbd-target.js';
import { QemuVmLauncher } from './adapters/qemu-vm-launcher.js';
import { WorkerChunkProcessor } from './adapters/worker-chunk-processor.js';
import { rawFileTargets } from './restore/raw-file-target.js';
import { loadAgentConfig, withConfiguredTags } from './config.js';
import { loadAgentKeys } from './encryption/agent-keys.js';
import { createAgentJobHandler, createSharedJobFilter } from './events/agent-job-handler.js';
import { startInventoryReports } from './events/inventory-reports.js';
import { FilesDriver } from './hypervisors/files/files-driver.js';
import { LibvirtDriver } from './hypervisors/libvirt/libvirt-driver.js';
import { QemuDriver } from './hypervisors/qemu/qemu-driver.js';
import { QemuSnapshots } from './hypervisors/qemu/qemu-snapshots.js';
import { SimDriver } from './hypervisors/sim/sim-driver.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

runDaemon('bulwark-agent', async (configPath, rootLog) => {
  if (!configPath) throw new ConfigError('command line', '--config', 'is required');
  const config = loadAgentConfig(configPath);
  rootLog.level = config.logLevel;
  const { site, worker } = config;
  const log = rootLog.child({ site, worker });
  const keys = await loadAgentKeys(configPath, config.encryption);
  const storageToken = readTokenSource({ token: config.storageToken, tokenFile: config.storageTokenFile }, configPath, 'storageToken');
  const chunkWorkers = config.chunkWorkers ?? availableParallelism();
  log.info({ keyFingerprint: keys?.fingerprint ?? null, chunkWorkers, storageCredential: storageToken === undefined ? 'anonymous' : 'token' }, 'data path configured');
  const driver =
    config.hypervisor.kind === 'qemu'
      ? Object.assign(new QemuDriver(config.hypervisor, log.child({ driver: 'qemu' })), {
          snapshots: new QemuSnapshots(config.hypervisor, log.child({ driver: 'qemu', part: 'snapshots' })),
        })
      : config.hypervisor.kind === 'libvirt'
        ? new LibvirtDriver(config.hypervisor, log.child({ driver: 'libvirt' }))
        : config.hypervisor.kind === 'sim'
          ? new SimDriver(config.hypervisor, systemClock)
          : new FilesDriver(config.hypervisor, log.child({ driver: 'files' }));

  const nc = await connectNats(config.nats.url, `bulwark-agent-${site}-${worker}`, log);
  const registry = createMetricsRegistry();
  const metrics = createAgentMetrics(registry, systemClock);
  const jobWorker = new JobWorker({
    nc,
    site,
    worker,
    log,
    clock: systemClock,
    // Jobs of VMs several agents of the site report come on the site's shared queue; an agent
    // takes only those of VMs it reports itself.
    sharedQueue: true,
    canRun: createSharedJobFilter(async () => (await driver.inventory()).map((vm) => vm.name)),
    ...(config.jobAckWaitMs !== undefined ? { ackWaitMs: config.jobAckWaitMs } : {}),
    handler: metrics.jobs.wrap(createAgentJobHandler({
      driver,
      clock: systemClock,
      keys,
      openProcessor: (k, o) => (chunkWorkers > 0 ? new WorkerChunkProcessor(k, { ...o, threads: chunkWorkers }) : new InlineChunkProcessor(k)),
      diskTargets: qcow2Targets(rawFileTargets),
      vmLauncher: new QemuVmLauncher(),
      openBlockStore: (address) => new GrpcBlockStore(address, { token: storageToken }),
    })),
  });
  await jobWorker.start();

  // The inventory goes out at start, and again whenever a controller asks (one whose catalog was lost and rebuilt).
  const inventoryReports = await startInventoryReports({
    nc,
    publisher: jobWorker.publisher,
    site,
    worker,
    clock: systemClock,
    inventory: async () => withConfiguredTags(await driver.inventory(), config.hypervisor),
    log,
  });
  const { vms } = inventoryReports;

  const heartbeat = new HeartbeatSender(
    nc,
    systemClock,
    () => ({ site, worker, kind: 'agent', version, address: null, runningJobs: jobWorker.runningJobs }),
    config.heartbeatIntervalMs,
  );
  heartbeat.start();
  const metricsServer = config.metrics ? await startMetricsServer(config.metrics.listen, registry, log) : undefined;

  return {
    ready: { site, worker, vms: vms.map((vm) => vm.name), ...(metricsServer ? { metricsAddress: metricsServer.address } : {}) },
    stop: async () => {
      await metricsServer?.close();
      heartbeat.stop();
      inventoryReports.stop();
      await jobWorker.stop();
      await nc.drain();
    },
  };
});
