/**
 * A job whose every delivery ends without a result (the worker that took it died each time) is
 * recorded failed when its durable runs out of deliveries, instead of staying in the catalog as
 * running forever; its message leaves the work queue. Real nats-server (its MAX_DELIVERIES
 * advisory), the controller's JobService and watcher over a SQLite catalog, a durable configured
 * as a JobWorker's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, connect, DeliverPolicy, nanos, type NatsConnection } from 'nats';
import { SqliteCatalog } from '../../controller/catalog/sqlite-catalog.js';
import { NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { JetStreamJobPublisher } from '../../controller/events/jetstream-job-publisher.js';
import { UndeliveredJobWatcher } from '../../controller/events/undelivered-jobs.js';
import { JobChangeFeed } from '../../controller/jobs/job-change-feed.js';
import { JobService } from '../../controller/jobs/job-service.js';
import { systemClock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import { JOBS_STREAM, subjects, workerDurable } from '../../shared/messages/subjects.js';
import { ensureStreams } from '../../shared/nats/streams.js';
import { waitFor } from '../helpers/wait-for.js';

describe('a job out of deliveries', () => {
  let root: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let catalog: SqliteCatalog;
  let watcher: UndeliveredJobWatcher;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'bulwark-undelivered-'));
    nats = await NatsServerProcess.start(join(root, 'nats'));
    nc = await connect({ servers: nats.url });
    catalog = SqliteCatalog.open(join(root, 'catalog.db'));
  });
  after(async () => {
    await watcher?.stop();
    await nc?.drain();
    await nats?.stop();
    catalog?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is recorded failed, naming its deliveries and worker, and leaves the work queue', async () => {
    const now = systemClock.nowIso();
    catalog.upsertWorker({ site: 'a', id: 'w1', kind: 'agent', state: 'online', lastSeenAt: now, address: null, version: 't' });
    catalog.upsertVm({ name: 'vm1', site: 'a', worker: 'w1', hypervisor: 'files', disks: [{ name: 'disk0', sizeBytes: 1024 }] });
    // The worker's durable as a JobWorker makes it, with 2 deliveries and a 1 s ack wait.
    const jsm = await nc.jetstreamManager();
    await ensureStreams(jsm);
    await jsm.consumers.add(JOBS_STREAM, {
      durable_name: workerDurable('a', 'w1'),
      filter_subject: subjects.jobs('a', 'w1'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(1000),
      max_deliver: 2,
      max_ack_pending: 1,
    });

    const changes = new JobChangeFeed();
    const jobs = new JobService({
      catalog,
      publisher: new JetStreamJobPublisher(nc.jetstream(), silentLogger()),
      changes,
      clock: systemClock,
      log: silentLogger(),
      newId: () => newId(),
      replication: [],
      verifySkipWithinMs: 0,
      gcGraceMs: 0,
    });
    watcher = new UndeliveredJobWatcher(nc, jobs, silentLogger());
    await watcher.start();
    const job = await jobs.startSnapshot({ vm: 'vm1', op: 'list' });
    assert.notEqual(catalog.getJob(job.id)?.publishedAt, null, 'published');

    // Two deliveries, each taken by a "worker" that dies before acking or reporting.
    const consumer = await nc.jetstream().consumers.get(JOBS_STREAM, workerDurable('a', 'w1'));
    const first = await consumer.next({ expires: 5000 });
    assert.equal(first?.info.deliveryCount, 1);
    const second = await consumer.next({ expires: 5000 });
    assert.equal(second?.info.deliveryCount, 2, 'redelivered after the ack wait');
    // The next worker to pull (after the second ack wait) gets nothing: the server gives up on the
    // message and publishes its advisory.
    assert.equal(await consumer.next({ expires: 3000 }), null, 'no third delivery');

    const failed = await waitFor('the job recorded failed', () => {
      const row = catalog.getJob(job.id);
      return row?.state === 'failed' ? row : undefined;
    }, 20_000);
    assert.match(failed.error ?? '', /^UNAVAILABLE: attempt 1 was delivered 2 times \(the queue's limit\).*worker w1 at site a/);
    assert.notEqual(failed.finishedAt, null);
    await waitFor('the message gone from the work queue', async () => {
      const info = await jsm.streams.info(JOBS_STREAM);
      return info.state.messages === 0 ? true : undefined;
    });
    // A second advisory for the same job (or a late one) changes nothing.
    assert.equal(jobs.failUndelivered(job.id, 1, 2), false);
  });
});
