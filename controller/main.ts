/**
 * The controller process: catalog, NATS consumer of events and heartbeats, job publisher, the
 * replication scheduler, and the gRPC API for the CLI. Composition only; see runDaemon for
 * flags, signals and exit codes.
 */
import { systemClock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { connectNats } from '../shared/nats/nats-connection.js';
import { ensureStreams } from '../shared/nats/streams.js';
import { runDaemon } from '../shared/process/daemon.js';
import { startGrpcServer, stopGrpcServer } from '../shared/rpc/grpc-server.js';
import { controllerPackage } from '../shared/rpc/proto-packages.js';
import { createControllerService } from './api/controller-service.js';
import { SqliteCatalog } from './catalog/sqlite-catalog.js';
import { loadControllerConfig } from './config.js';
import { EventConsumer } from './events/event-consumer.js';
import { HeartbeatSubscriber } from './events/heartbeat-subscriber.js';
import { JetStreamJobPublisher } from './events/jetstream-job-publisher.js';
import { DeploymentStatusReader } from './jobs/deployment-status.js';
import { EventApplier } from './jobs/event-applier.js';
import { JobChangeFeed } from './jobs/job-change-feed.js';
import { JobService } from './jobs/job-service.js';
import { ReplicationScheduler, type Timer } from './jobs/replication-scheduler.js';
import { ReplicationStatusReader } from './jobs/replication-status.js';
import { WorkerMonitor } from './jobs/worker-monitor.js';

const REPUBLISH_INTERVAL_MS = 10_000;

const nodeTimer: Timer = {
  after: (delayMs, fn) => {
    const handle = setTimeout(fn, delayMs);
    return () => clearTimeout(handle);
  },
};

runDaemon('bulwark-controller', async (configPath, rootLog) => {
  const config = loadControllerConfig(configPath);
  rootLog.level = config.logLevel;
  const log = rootLog;
  const clock = systemClock;

  const catalog = SqliteCatalog.open(config.databasePath);
  const nc = await connectNats(config.nats.url, 'bulwark-controller', log.child({ component: 'nats' }));
  await ensureStreams(await nc.jetstreamManager());

  const changes = new JobChangeFeed();
  const jobs = new JobService({
    catalog,
    publisher: new JetStreamJobPublisher(nc.jetstream(), log.child({ component: 'job-publisher' })),
    changes,
    clock,
    log: log.child({ component: 'jobs' }),
    newId: () => newId(clock.nowMs()),
    replication: config.replication,
    verifySkipWithinMs: config.verifySkipWithinMs,
    gcGraceMs: config.gcGraceMs,
  });
  const applier = new EventApplier({ catalog, changes, clock, log: log.child({ component: 'events' }) });
  const consumer = new EventConsumer({ nc, applier, log: log.child({ component: 'event-consumer' }) });
  const monitor = new WorkerMonitor({
    catalog,
    clock,
    log: log.child({ component: 'workers' }),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    offlineAfterMissedBeats: config.offlineAfterMissedBeats,
  });
  const heartbeats = new HeartbeatSubscriber(nc, monitor, log.child({ component: 'heartbeats' }), config.heartbeatIntervalMs);

  await consumer.start();
  heartbeats.start();
  // Jobs inserted before a crash but never confirmed published go out now; the msgID dedupes.
  await jobs.publishPending();
  const republish = setInterval(() => void jobs.publishPending(), REPUBLISH_INTERVAL_MS);
  const scheduler = new ReplicationScheduler({
    pairs: config.replication,
    catalog,
    jobs,
    clock,
    timer: nodeTimer,
    log: log.child({ component: 'replication' }),
  });
  scheduler.start();

  const replication = new ReplicationStatusReader({ catalog, clock, pairs: config.replication });
  const status = new DeploymentStatusReader({ catalog, clock, replication });
  const { server, address } = await startGrpcServer(config.listen, (s) => {
    s.addService(
      controllerPackage().Controller.service,
      createControllerService({ catalog, jobs, changes, replication, status, log }),
    );
  });

  return {
    ready: { address },
    stop: async () => {
      clearInterval(republish);
      await scheduler.stop();
      await stopGrpcServer(server, 2000);
      heartbeats.stop();
      await consumer.stop();
      await nc.drain();
      catalog.close();
    },
  };
});
