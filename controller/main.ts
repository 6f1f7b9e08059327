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
import { readTokenSource } from '../shared/config/token-source.js';
import { createControllerService } from './api/controller-service.js';
import { GrpcStorageReader } from './api/grpc-storage-reader.js';
import { SqliteCatalog } from './catalog/sqlite-catalog.js';
import { loadControllerConfig } from './config.js';
import { EventConsumer } from './events/event-consumer.js';
import { subjects } from '../shared/messages/subjects.js';
import { HeartbeatSubscriber } from './events/heartbeat-subscriber.js';
import { UndeliveredJobWatcher } from './events/undelivered-jobs.js';
import { JetStreamJobPublisher } from './events/jetstream-job-publisher.js';
import { CatalogImporter } from './jobs/catalog-import.js';
import { DeploymentStatusReader } from './jobs/deployment-status.js';
import { EventApplier } from './jobs/event-applier.js';
import { JobChangeFeed } from './jobs/job-change-feed.js';
import { JobService } from './jobs/job-service.js';
import { PolicyStore } from './policies/policy-store.js';
import { JobCanceller } from './jobs/job-cancel.js';
import { NatsCancelSender } from './events/nats-cancel-sender.js';
import { ReplicationScheduler, type Timer } from './jobs/replication-scheduler.js';
import { ReplicationStatusReader } from './jobs/replication-status.js';
import { WorkerMonitor } from './jobs/worker-monitor.js';
import { createMetricsRegistry, startMetricsServer } from '../shared/metrics/metrics-server.js';
import { registerControllerMetrics } from './metrics/controller-metrics.js';
import { DispatchGate, releaseSlotsOnFinish } from './policies/dispatch-gate.js';
import { PolicyScheduler } from './policies/policy-scheduler.js';
import { JobRetrier } from './policies/retry.js';
import { ApiAccess } from './access/api-access.js';
import { writeBootstrapTokenFile } from './access/bootstrap-token-file.js';
import { createApiAccessInterceptor } from './api/grpc-access-control.js';
import { HttpWebhookSender } from './notify/http-webhook-sender.js';
import { loadWebhookTargets } from './notify/webhook-config.js';
import { WebhookOutbox, damageAlertEvent } from './notify/webhook-outbox.js';
import { RpoWatch } from './policies/rpo-watch.js';

const REPUBLISH_INTERVAL_MS = 10_000;
const CANCEL_RESEND_INTERVAL_MS = 2_000;
const DAY_MS = 86_400_000;
/** How often audit entries past their retention are deleted. */
const AUDIT_PRUNE_INTERVAL_MS = 3_600_000;

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
  // Catalog rebuild reads storages directly, with the controller's own (peer-read) credential.
  const storageToken = readTokenSource({ token: config.storageToken, tokenFile: config.storageTokenFile }, configPath ?? '--config', 'storageToken');

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
    gate: new DispatchGate(config.scheduler),
  });
  // Webhooks: events are queued in the catalog with what makes them, delivered from there.
  const webhooks = new WebhookOutbox({
    catalog,
    clock,
    timer: nodeTimer,
    sender: new HttpWebhookSender(),
    hooks: loadWebhookTargets(config.webhooks, configPath ?? '--config'),
    log: log.child({ component: 'webhooks' }),
  });
  const applier = new EventApplier({
    catalog,
    changes,
    clock,
    log: log.child({ component: 'events' }),
    onDamageAlert: (type, alert) => webhooks.publish(damageAlertEvent(type, alert)),
  });
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
  // A job given to workers max_deliver times without a result is recorded failed, not left running.
  const undelivered = new UndeliveredJobWatcher(nc, jobs, log.child({ component: 'undelivered-jobs' }));
  await undelivered.start();
  // A controller whose catalog is empty (first start, or lost and rebuilt) asks every agent for its inventory.
  if (catalog.listVms().length === 0) nc.publish(subjects.inventoryRequest);
  // Jobs inserted before a crash but never confirmed published go out now; the msgID dedupes.
  await jobs.publishPending();
  const republish = setInterval(() => void jobs.publishPending(), REPUBLISH_INTERVAL_MS);
  // Cancel requests go over core NATS, which keeps nothing: re-sent until each job has ended.
  const cancelSender = new NatsCancelSender(nc);
  const canceller = new JobCanceller({ catalog, changes, sender: cancelSender, clock, log: log.child({ component: 'cancel' }) });
  const resendCancels = setInterval(() => canceller.resendPending(), CANCEL_RESEND_INTERVAL_MS);
  const pendingCancels = cancelSender.answerPendingRequests((site, worker) => canceller.pendingFor(site, worker), log.child({ component: 'cancel' }));
  const scheduler = new ReplicationScheduler({
    pairs: config.replication,
    catalog,
    jobs,
    clock,
    timer: nodeTimer,
    log: log.child({ component: 'replication' }),
  });
  scheduler.start();
  // Scheduling: failed jobs with attempts left are queued again; a finished job frees its slot
  // for a held one; policies make jobs at their due times (docs/OPERATORS.md "Scheduling").
  const retrier = new JobRetrier({ catalog, changes, clock, log: log.child({ component: 'retry' }) });
  retrier.start();
  const stopSlotRelease = releaseSlotsOnFinish(changes, catalog, () => jobs.publishPending(), log.child({ component: 'dispatch' }));
  const policyScheduler = new PolicyScheduler({
    catalog,
    jobs,
    changes,
    clock,
    timer: nodeTimer,
    log: log.child({ component: 'policy-scheduler' }),
    tickMs: config.scheduler.tickMs,
    prepareLeadMs: config.scheduler.prepareLeadMs,
  });
  policyScheduler.start();
  const rpo = new RpoWatch({
    catalog,
    clock,
    timer: nodeTimer,
    log: log.child({ component: 'rpo' }),
    notifier: webhooks,
    changes,
    newId: () => newId(clock.nowMs()),
    checkIntervalMs: config.rpo.checkIntervalMs,
  });
  rpo.start();
  webhooks.start();

  const replication = new ReplicationStatusReader({ catalog, clock, pairs: config.replication });
  const policies = new PolicyStore({ catalog, clock, log: log.child({ component: 'policies' }), jobChanged: (id) => changes.notify(id) });
  const status = new DeploymentStatusReader({ catalog, clock, replication, rpo });
  const importer = new CatalogImporter({
    catalog,
    storages: new GrpcStorageReader(storageToken),
    clock,
    log: log.child({ component: 'catalog-import' }),
  });
  // Access: every API call is checked against its token's role and audited (docs/OPERATORS.md).
  const access = new ApiAccess({
    store: catalog,
    clock,
    log: log.child({ component: 'access' }),
    anonymousRole: config.access.anonymousRole,
    newId: () => newId(clock.nowMs()),
  });
  const { bootstrapTokenFile } = config.access;
  const bootstrap = bootstrapTokenFile === undefined ? undefined : await access.ensureBootstrapToken((secret) => writeBootstrapTokenFile(bootstrapTokenFile, secret));
  if (bootstrap) log.info({ token: bootstrap.name, file: bootstrapTokenFile }, 'bootstrap admin token written');
  const auditRetentionMs = config.access.auditRetentionDays * DAY_MS;
  const pruneAudit = () => {
    try {
      access.pruneAudit(auditRetentionMs);
    } catch (err) {
      log.warn({ err }, 'pruning the audit log failed; the next hour tries again');
    }
  };
  pruneAudit();
  const auditPruner = setInterval(pruneAudit, AUDIT_PRUNE_INTERVAL_MS);
  if (config.access.anonymousRole !== 'none') log.warn({ anonymousRole: config.access.anonymousRole }, 'calls without a token are allowed');
  else if (access.listTokens().length === 0) log.warn('no API token exists and access.bootstrapTokenFile is not set: every API call will be refused');
  const { server, address } = await startGrpcServer(
    config.listen,
    (s) => {
      s.addService(
        controllerPackage().Controller.service,
        createControllerService({ catalog, jobs, changes, replication, status, importer, access, log, rpo, canceller, policies }),
      );
    },
    { interceptors: [createApiAccessInterceptor(access, clock, log.child({ component: 'access' }))] },
  );

  const registry = createMetricsRegistry();
  const stopJobMetrics = registerControllerMetrics({ registry, catalog, changes, replication, rpo });
  const metricsServer = config.metrics ? await startMetricsServer(config.metrics.listen, registry, log) : undefined;

  return {
    ready: { address, ...(metricsServer ? { metricsAddress: metricsServer.address } : {}) },
    stop: async () => {
      await metricsServer?.close();
      stopJobMetrics();
      clearInterval(republish);
      clearInterval(auditPruner);
      clearInterval(resendCancels);
      pendingCancels.unsubscribe();
      await scheduler.stop();
      await policyScheduler.stop();
      stopSlotRelease();
      retrier.stop();
      rpo.stop();
      await webhooks.stop();
      await stopGrpcServer(server, 2000);
      heartbeats.stop();
      await undelivered.stop();
      await consumer.stop();
      await nc.drain();
      catalog.close();
    },
  };
});
