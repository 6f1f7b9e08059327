/** The storage daemon: opens the datastore, serves BlockStore over gRPC, runs sync, verify, prune, gc and lock jobs from NATS. */
import { join } from 'node:path';
import { systemClock } from '../shared/clock.js';
import { ConfigError } from '../shared/errors.js';
import { connectNats } from '../shared/nats/nats-connection.js';
import { HeartbeatSender } from '../shared/nats/heartbeat-sender.js';
import { JobWorker } from '../shared/nats/job-worker.js';
import { runDaemon } from '../shared/process/daemon.js';
import { startGrpcServer, stopGrpcServer } from '../shared/rpc/grpc-server.js';
import { blockStorePackage } from '../shared/rpc/proto-packages.js';
import { createAccessInterceptor } from './api/access-control.js';
import { createBlockStoreService } from './api/blockstore-service.js';
import { loadStorageConfig } from './config.js';
import { Datastore } from './datastore/datastore.js';
import { createStorageJobHandler } from './events/storage-job-handler.js';
import { GrpcPeerStore } from './replication/grpc-peer-store.js';
import { loadPeerTokens } from './replication/peer-tokens.js';
import { UnreportedCopies } from './replication/unreported-copies.js';
import { startRepair } from './repair-runtime.js';
import { createMetricsRegistry, startMetricsServer } from '../shared/metrics/metrics-server.js';
import { createStorageMetrics } from './storage-metrics.js';

const VERSION = '0.1.0';

runDaemon('bulwark-storage', async (configPath, rootLog) => {
  if (configPath === undefined) throw new ConfigError('--config', '', 'a config file is required');
  const config = loadStorageConfig(configPath);
  const peerTokens = loadPeerTokens(config.peers, configPath);
  rootLog.level = config.logLevel;
  const log = rootLog.child({ site: config.site, worker: config.worker });
  const clock = systemClock;

  const datastore = await Datastore.open(config.datastoreDir, {
    chunkSizeBytes: config.chunkSizeBytes,
    keyFingerprint: config.keyFingerprint ?? null,
    clock,
    log,
  });
  const nc = await connectNats(config.nats.url, `bulwark-storage-${config.site}-${config.worker}`, log);
  const registry = createMetricsRegistry();
  const metrics = createStorageMetrics(registry, clock);
  const repairing = await startRepair({ config, datastore, nc, peerTokens, clock, log, metrics: metrics.repair });
  const { repair, peerDirectory } = repairing;
  const { server, address } = await startGrpcServer(
    config.listen,
    (s) => s.addService(blockStorePackage().BlockStore.service, createBlockStoreService({ datastore, site: config.site, log, repair, traffic: metrics.traffic })),
    { interceptors: [createAccessInterceptor(config.access, config.site, log)] },
  );
  const unreportedCopies = await UnreportedCopies.open(join(datastore.dir, 'replication', 'unreported.json'), join(datastore.dir, 'tmp'), log);
  const worker = new JobWorker({
    nc,
    site: config.site,
    worker: config.worker,
    handler: metrics.jobs.wrap(createStorageJobHandler({
      datastore,
      site: config.site,
      clock,
      openPeer: (site, peerAddress) => new GrpcPeerStore(site, peerAddress, peerTokens.get(site)),
      repair,
      peerDirectory,
      unreportedCopies,
    })),
    onSucceeded: async (_job, result) => {
      if (result.kind === 'sync') await unreportedCopies.confirm(result.result.copied);
    },
    log,
    clock,
  });
  await worker.start();
  const heartbeat = new HeartbeatSender(
    nc,
    clock,
    () => ({
      site: config.site,
      worker: config.worker,
      kind: 'storage',
      version: VERSION,
      address,
      runningJobs: worker.runningJobs,
    }),
    config.heartbeatIntervalMs,
  );
  heartbeat.start();
  repairing.startBackground();
  const metricsServer = config.metrics ? await startMetricsServer(config.metrics.listen, registry, log) : undefined;
  const stopWatchingStore = config.metrics ? metrics.watchChunkStore(datastore.dir, config.metrics.chunkStoreRefreshMs, log) : undefined;

  return {
    ready: {
      address,
      site: config.site,
      worker: config.worker,
      datastoreId: datastore.info.id,
      keyFingerprint: datastore.info.keyFingerprint,
      ...(metricsServer ? { metricsAddress: metricsServer.address } : {}),
    },
    stop: async () => {
      await stopWatchingStore?.();
      await metricsServer?.close();
      await repairing.stop();
      await worker.stop();
      heartbeat.stop();
      await stopGrpcServer(server);
      await nc.drain();
    },
  };
});
