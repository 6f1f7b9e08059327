/**
 * JobWorker against a real nats-server: the site's shared queue (two workers share it, each job
 * runs once, concurrency holds across a worker's own and the shared queue, a worker that cannot
 * run a shared job leaves it to one that can), and cancel (a running job's handler sees its own
 * signal and the job is reported CANCELLED and acked; a job whose cancel came first is reported
 * cancelled without running; a stopping worker leaves its job for redelivery instead).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { systemClock } from '../../shared/clock.js';
import { CancelledError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { WorkerEvent, type JobResult } from '../../shared/messages/events.js';
import type { CancelRequest, JobMessage } from '../../shared/messages/jobs.js';
import { SHARED_WORKER, subjects } from '../../shared/messages/subjects.js';
import { ensureStreams } from '../../shared/nats/streams.js';
import { JobWorker, type JobHandler } from '../../shared/nats/job-worker.js';
import { waitFor } from '../helpers/wait-for.js';

const result = (vm: string): JobResult => ({
  kind: 'snapshot',
  result: { vm, op: 'list', created: null, removed: [], reverted: null, vmRunning: false, snapshots: [], incomplete: [], note: null, durationMs: 0 },
});

let counter = 0;
const snapshotJob = (vm: string): JobMessage => ({
  jobId: `J${process.pid}-${++counter}`,
  attempt: 1,
  createdAt: new Date().toISOString(),
  kind: 'snapshot',
  params: { vm, op: 'list' },
});

describe('JobWorker: shared queue and cancel', () => {
  let root: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  const events: WorkerEvent[] = [];
  const workers: JobWorker[] = [];
  const connections: NatsConnection[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'bulwark-worker-'));
    nats = await NatsServerProcess.start(join(root, 'nats'));
    nc = await connect({ servers: nats.url });
    await ensureStreams(await nc.jetstreamManager());
    nc.subscribe(subjects.allEvents, { callback: (_e, m) => events.push(WorkerEvent.parse(m.json())) });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(connections.map((c) => c.close()));
    await nc?.drain();
    await nats?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function startWorker(site: string, worker: string, handler: JobHandler, over: Partial<ConstructorParameters<typeof JobWorker>[0]> = {}): Promise<JobWorker> {
    const wnc = await connect({ servers: nats.url });
    connections.push(wnc);
    const w = new JobWorker({ nc: wnc, site, worker, handler, log: silentLogger(), clock: systemClock, ackWaitMs: 5000, ...over });
    await w.start();
    workers.push(w);
    return w;
  }
  const publish = (site: string, worker: string, job: JobMessage) => nc.jetstream().publish(subjects.jobs(site, worker), JSON.stringify(job), { msgID: `${job.jobId}/${job.attempt}` });
  const ended = (jobId: string) => events.filter((e): e is Extract<WorkerEvent, { jobId: string }> => 'jobId' in e && e.jobId === jobId && (e.type === 'job.succeeded' || e.type === 'job.failed'));
  const cancel = (site: string, worker: string, jobId: string) =>
    nc.publish(subjects.cancel(site, worker), JSON.stringify({ jobId, attempt: 1, requestedAt: new Date().toISOString() } satisfies CancelRequest));

  it('shares a site queue between workers, runs each job once, keeps each worker to one job across both queues, and leaves a VM to the worker that has it', async () => {
    const site = 's1';
    const ran: { worker: string; jobId: string; vm: string }[] = [];
    const runningNow = new Map<string, number>();
    let overlap = false;
    const handlerOf = (worker: string): JobHandler => async (job) => {
      const now = (runningNow.get(worker) ?? 0) + 1;
      runningNow.set(worker, now);
      if (now > 1) overlap = true;
      ran.push({ worker, jobId: job.jobId, vm: job.kind === 'snapshot' ? job.params.vm : '' });
      await new Promise((r) => setTimeout(r, 150));
      runningNow.set(worker, (runningNow.get(worker) ?? 1) - 1);
      return result(job.kind === 'snapshot' ? job.params.vm : '');
    };
    // w2 does not have VM "only-w1": it must leave those jobs to w1.
    await startWorker(site, 'w1', handlerOf('w1'), { sharedQueue: true });
    await startWorker(site, 'w2', handlerOf('w2'), { sharedQueue: true, canRun: (job) => job.kind === 'snapshot' && job.params.vm !== 'only-w1', notMineDelayMs: 300 });
    const shared = Array.from({ length: 10 }, () => snapshotJob('both'));
    const onlyW1 = Array.from({ length: 3 }, () => snapshotJob('only-w1'));
    const own = Array.from({ length: 4 }, (_, i) => ({ job: snapshotJob('own'), worker: i % 2 === 0 ? 'w1' : 'w2' }));
    for (const job of [...shared, ...onlyW1]) await publish(site, SHARED_WORKER, job);
    for (const { job, worker } of own) await publish(site, worker, job);
    const all = [...shared, ...onlyW1, ...own.map((o) => o.job)];
    await waitFor('every job ended', () => (all.every((j) => ended(j.jobId).length > 0) ? true : undefined), 60_000);

    for (const job of all) assert.equal(ran.filter((r) => r.jobId === job.jobId).length, 1, `job ${job.jobId} ran once`);
    assert.ok(ran.some((r) => r.worker === 'w1' && r.vm === 'both') && ran.some((r) => r.worker === 'w2' && r.vm === 'both'), 'both workers took shared jobs');
    assert.ok(ran.filter((r) => r.vm === 'only-w1').every((r) => r.worker === 'w1'), 'only w1 ran the jobs of its own VM');
    for (const { job, worker } of own) assert.equal(ran.find((r) => r.jobId === job.jobId)?.worker, worker, 'own jobs stay with their worker');
    assert.equal(overlap, false, 'never two jobs at once on one worker');
    const jsm = await nc.jetstreamManager();
    assert.equal((await jsm.streams.info('BULWARK_JOBS')).state.messages, 0, 'every job acked');
  });

  it('aborts a running job on cancel, reports it CANCELLED and acks it; a job cancelled before it arrives never runs', async () => {
    const site = 's2';
    const started: string[] = [];
    let sawCancel = false;
    const handler: JobHandler = async (job, ctx) => {
      started.push(job.jobId);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 30_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          sawCancel = true;
          reject(new CancelledError('snapshot cancelled'));
        });
      });
      return result('x');
    };
    await startWorker(site, 'w1', handler);
    const running = snapshotJob('x');
    await publish(site, 'w1', running);
    await waitFor('job started', () => (started.includes(running.jobId) ? true : undefined), 10_000);
    cancel(site, 'w1', running.jobId);
    await waitFor('cancelled job reported', () => ended(running.jobId)[0], 10_000);
    const [done] = ended(running.jobId);
    assert.equal(done?.type === 'job.failed' ? done.error.code : done?.type, 'CANCELLED');
    assert.ok(sawCancel);

    const early = snapshotJob('x');
    cancel(site, 'w1', early.jobId);
    await nc.flush();
    await publish(site, 'w1', early);
    await waitFor('early-cancelled job reported', () => ended(early.jobId)[0], 10_000);
    assert.equal(started.includes(early.jobId), false, 'never ran');
    assert.equal(events.some((e) => e.type === 'job.started' && e.jobId === early.jobId), false);
    const jsm = await nc.jetstreamManager();
    // Acked: nothing of this site is left in the work queue, and nothing comes back after ack_wait.
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(ended(running.jobId).length, 1, 'not redelivered');
    assert.equal((await jsm.consumers.info('BULWARK_JOBS', `${site}_w1`)).num_ack_pending, 0);
  });

  it('leaves the job of a stopping worker for redelivery, with no result', async () => {
    const site = 's3';
    let firstRun = true;
    const handler: JobHandler = async (job, ctx) => {
      if (!firstRun) return result('x');
      firstRun = false;
      await new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new CancelledError('stopping'))));
      return result('x');
    };
    const w = await startWorker(site, 'w1', handler, { ackWaitMs: 2000 });
    const job = snapshotJob('x');
    await publish(site, 'w1', job);
    await waitFor('started', () => (events.some((e) => e.type === 'job.started' && e.jobId === job.jobId) ? true : undefined), 10_000);
    await w.stop();
    assert.equal(ended(job.jobId).length, 0, 'a stopping worker reports nothing');
    await startWorker(site, 'w1', handler, { ackWaitMs: 2000 });
    await waitFor('redelivered and finished', () => ended(job.jobId)[0], 15_000);
    assert.equal(ended(job.jobId)[0]?.type, 'job.succeeded');
  });
});
