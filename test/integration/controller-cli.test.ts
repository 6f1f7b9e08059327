/**
 * The controller as a real process over a real nats-server, driven by the real `bulwark` CLI.
 * The test plays the workers itself over NATS: heartbeats, an inventory, and an agent that
 * answers jobs through the shared JobWorker loop (job.started, then job.succeeded/failed).
 * No blocks move here (the workers are fakes); the byte-for-byte scenarios live in
 * demo-scenario and controller-crash.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../helpers/wait-for.js';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { writeClientConfig } from '../../controller/cli/client-config.js';
import { ManagedProcess, repoRoot, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { NatsServerProcess, freePort } from '../../controller/cli/up/nats-server-process.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import type { JobResult } from '../../shared/messages/events.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { BackupResult } from '../../shared/messages/results.js';
import type { EventPublisher } from '../../shared/nats/event-publisher.js';
import { HeartbeatSender } from '../../shared/nats/heartbeat-sender.js';
import { JobWorker } from '../../shared/nats/job-worker.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import type { StartRestoreRequest } from '../../shared/rpc/generated/bulwark/v1/StartRestoreRequest.js';
import { createControllerClient } from '../../shared/rpc/proto-packages.js';
import { runCli, runCliJson, type CliResult } from '../helpers/cli.js';

interface JobJson {
  id: string;
  kind: string;
  state: string;
  error: string | null;
  params: Record<string, unknown>;
  result: unknown;
}

/** A fake agent: answers backup and restore jobs; a held job waits until released. */
class FakeAgent {
  readonly received: JobMessage[] = [];
  private readonly held = new Map<string, () => void>();
  holdNext = false;

  handle = async (job: JobMessage): Promise<JobResult> => {
    this.received.push(job);
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => this.held.set(job.jobId, resolve));
    }
    if (job.kind === 'backup') {
      if (job.params.vm === 'vm-broken') throw new AppError('DATA_LOSS', 'disk root is unreadable');
      return { kind: 'backup', result: backupResultFor(job.jobId, job.params.vm, job.params.storage.site) };
    }
    if (job.kind === 'restore') {
      return {
        kind: 'restore',
        result: {
          backupId: job.params.backupId,
          site: job.params.storage.site,
          targetDir: job.params.targetDir,
          disks: [],
          bytesWritten: 0,
          chunksFetched: 0,
          durationMs: 1,
        },
      };
    }
    throw new AppError('FAILED_PRECONDITION', `an agent does not run ${job.kind} jobs`);
  };

  release(jobId: string): void {
    this.held.get(jobId)?.();
  }
}

function backupResultFor(jobId: string, vm: string, site: string): BackupResult {
  return {
    // One backup per job, as a storage keyed by (jobId, attempt) would report it.
    backup: {
      backupId: `BK-${jobId}`,
      vm,
      site,
      createdAt: systemClock.nowIso(),
      mode: 'full',
      parentBackupId: null,
      jobId,
      sizeBytes: 4096,
      disks: [{ name: 'root', sizeBytes: 1 << 20 }],
    },
    alreadyCommitted: false,
    bytesRead: 1 << 20,
    chunksTotal: 1,
    chunksZero: 0,
    chunksSent: 1,
    bytesSent: 4096,
    durationMs: 5,
  };
}

describe('controller and CLI over real NATS', () => {
  const root = mkdtempSync(join(tmpdir(), 'bulwark-ctl-'));
  const home = join(root, 'home');
  const agent = new FakeAgent();
  let nats: NatsServerProcess;
  let controller: ManagedProcess;
  let address: string;
  let nc: NatsConnection;
  let worker: JobWorker;
  let events: EventPublisher;
  const beats: HeartbeatSender[] = [];
  let env: Record<string, string>;

  const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCli(args, { ...env, ...extra }, 60_000);

  before(async () => {
    nats = await NatsServerProcess.start(join(root, 'nats'));
    address = `127.0.0.1:${await freePort()}`;
    const dir = join(root, 'controller');
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: address,
        nats: { url: nats.url },
        databasePath: join(dir, 'catalog.db'),
        heartbeatIntervalMs: 300,
        offlineAfterMissedBeats: 3,
        replication: [{ from: 'a', to: 'b' }],
        logLevel: 'debug',
      }),
    );
    const { command, args } = tsxCommand('controller/main.ts', ['--config', configFile, '--ready-file', join(dir, 'ready.json')]);
    controller = new ManagedProcess({ name: 'controller', command, args, logFile: join(dir, 'controller.log'), readyFile: join(dir, 'ready.json') });
    const ready = JSON.parse(await controller.start()) as { address: string };
    assert.equal(ready.address, address);
    writeClientConfig(home, address);
    env = { BULWARK_HOME: home, BULWARK_CONTROLLER: '' };

    nc = await connect({ servers: nats.url });
    const log = silentLogger();
    const describeWorker = (site: string, id: string, kind: 'agent' | 'storage', addr: string | null) => () => ({
      site,
      worker: id,
      kind,
      version: 'test',
      address: addr,
      runningJobs: 0,
    });
    beats.push(
      new HeartbeatSender(nc, systemClock, describeWorker('a', 'agent-1', 'agent', null), 300),
      new HeartbeatSender(nc, systemClock, describeWorker('a', 'storage', 'storage', '127.0.0.1:7101'), 300),
      new HeartbeatSender(nc, systemClock, describeWorker('b', 'storage', 'storage', '127.0.0.1:7102'), 300),
    );
    for (const b of beats) b.start();
    worker = new JobWorker({ nc, site: 'a', worker: 'agent-1', handler: agent.handle, log, clock: systemClock });
    await worker.start();
    events = worker.publisher;
    await events.publish({
      eventId: newId(),
      site: 'a',
      worker: 'agent-1',
      at: systemClock.nowIso(),
      type: 'inventory',
      vms: [
        { name: 'vm1', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 1 << 20 }] },
        { name: 'vm-broken', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 1 << 20 }] },
      ],
    });
  });

  after(async () => {
    for (const b of beats) b.stop();
    await worker?.stop();
    await nc?.close();
    await controller?.stop();
    await nats?.stop();
    if (process.env.BULWARK_TEST_KEEP !== '1') rmSync(root, { recursive: true, force: true });
  });

  it('lists the workers and VMs the fake workers reported', async () => {
    await waitFor('three online workers', async () => {
      const workers = await runCliJson<{ id: string; site: string; state: string; address: string }[]>(['workers'], env);
      return workers.filter((w) => w.state === 'online').length === 3 ? workers : undefined;
    });
    const vms = await runCliJson<{ name: string; site: string; worker: string }[]>(['vms'], env);
    assert.deepEqual(vms.map((v) => `${v.name}@${v.site}/${v.worker}`), ['vm-broken@a/agent-1', 'vm1@a/agent-1']);
    const table = await cli(['vms']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /vm1 .*a .*agent-1 .*files/);
  });

  it('runs a backup with --wait and shows it in jobs and backups', async () => {
    const res = await cli(['backup', 'vm1', '--mode', 'full', '--wait']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /state +succeeded/);
    assert.match(res.stdout, /backup +BK-\S+ \(full\)/);
    const sent = agent.received.at(-1);
    assert.equal(sent?.kind, 'backup');
    assert.deepEqual(sent?.params, { vm: 'vm1', mode: 'full', storage: { site: 'a', address: '127.0.0.1:7101' } });

    const jobs = await runCliJson<JobJson[]>(['jobs', '--state', 'succeeded'], env);
    const job = jobs.find((j) => j.id === sent?.jobId);
    assert.equal(job?.state, 'succeeded');
    assert.equal(BackupResult.parse(job?.result).backup.backupId, `BK-${sent?.jobId}`);
    const backups = await runCliJson<{ backupId: string; site: string; jobId: string }[]>(['backups', '--vm', 'vm1'], env);
    assert.deepEqual(backups.map((b) => `${b.backupId}@${b.site}`), [`BK-${sent?.jobId}@a`]);
  });

  it('finishes a job once when the controller is SIGKILLed between dispatch and result', async () => {
    agent.holdNext = true;
    const started = await runCliJson<JobJson>(['backup', 'vm1'], env);
    // A follower started before the kill rides through the restart.
    const follower = cli(['job', started.id, '--wait', '--json']);
    await waitFor('the agent to receive the job', () => agent.received.find((j) => j.jobId === started.id));
    await controller.kill();
    agent.release(started.id);
    // The result is recorded in JetStream while the controller is down; a redelivered job
    // reports its committed backup again under a new event id.
    const again: JobResult = { kind: 'backup', result: { ...backupResultFor(started.id, 'vm1', 'a'), alreadyCommitted: true } };
    await events.publish({ eventId: newId(), site: 'a', worker: 'agent-1', at: systemClock.nowIso(), jobId: started.id, attempt: 1, type: 'job.succeeded', outcome: again });
    await controller.start();

    const done = await follower;
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as JobJson).state, 'succeeded');
    const backups = await runCliJson<{ backupId: string; jobId: string }[]>(['backups'], env);
    assert.equal(backups.filter((b) => b.jobId === started.id).length, 1, 'the backup is recorded exactly once');
    assert.equal(agent.received.filter((j) => j.jobId === started.id).length, 1, 'the job ran once');
  });

  it('ends a WatchJob stream cleanly when the client cancels it', async () => {
    agent.holdNext = true;
    const started = await runCliJson<JobJson>(['backup', 'vm1'], env);
    await waitFor('the agent to receive the job', () => agent.received.find((j) => j.jobId === started.id));
    const client = createControllerClient(address);
    try {
      const stream = client.watchJob({ id: started.id });
      const first = await new Promise<Job__Output>((done, fail) => {
        stream.once('data', done);
        stream.once('error', fail);
      });
      assert.equal(first.id, started.id);
      const ended = new Promise<unknown>((done) => stream.once('error', done));
      stream.cancel();
      assert.match(String(await ended), /Cancelled/);
      agent.release(started.id);
      const done = await runCliJson<JobJson>(['job', started.id, '--wait'], env);
      assert.equal(done.state, 'succeeded', 'the controller still serves and applies events after the cancel');
    } finally {
      client.close();
    }
  });

  it('exits 1 with the worker error when the job fails, and on a refused request', async () => {
    const failed = await cli(['backup', 'vm-broken', '--wait']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed: DATA_LOSS: disk root is unreadable/);
    const unknown = await cli(['backup', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /VM nope not found/);
  });

  it('sends restores with an absolute target directory', async () => {
    const [backup] = await runCliJson<{ backupId: string }[]>(['backups', '--vm', 'vm1'], env);
    assert.ok(backup);
    const job = await runCliJson<JobJson>(['restore', backup.backupId, '--to', 'relative/dir', '--wait'], env);
    assert.equal(job.state, 'succeeded');
    assert.equal(job.params.targetDir, resolve(repoRoot, 'relative/dir'));

    const client = createControllerClient(address);
    try {
      await assert.rejects(
        callUnary<StartRestoreRequest, Job__Output>('controller', (r, o, cb) => client.startRestore(r, o, cb), { backupId: backup.backupId, targetDir: 'rel' }),
        (err: unknown) => err instanceof AppError && err.code === 'INVALID_ARGUMENT' && err.message === 'target_dir: must be an absolute path',
      );
    } finally {
      client.close();
    }
  });

  it('rejects bad input with exit 2, naming the argument or option', async () => {
    const cases: [string[], RegExp][] = [
      [['backup', 'vm1', '--mode', 'fast'], /--mode <mode>.*must be one of auto, full, incremental/],
      [['restore', 'B1'], /required option '--to <dir>' not specified/],
      [['restore', 'B1', '--to', ''], /--to <dir>.*must not be empty/],
      [['jobs', '--limit', '0'], /--limit <n>.*must be at least 1/],
      [['jobs', '--limit', 'ten'], /--limit <n>.*must be a whole number/],
      [['jobs', '--state', 'done'], /--state <state>.*must be one of queued/],
      [['backups', '--site', 'Site A'], /--site <site>.*must match/],
      [['backup', 'bad/name'], /argument 'vm'.*must be letters/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, pattern] of cases) {
      const res = await cli(args);
      assert.equal(res.code, 2, `bulwark ${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, pattern, `bulwark ${args.join(' ')}`);
    }
  });

  it('exits 3 when the controller cannot be reached or found', async () => {
    const port = await freePort();
    const unreachable = await cli(['vms', '--controller', `127.0.0.1:${port}`]);
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, new RegExp(`cannot reach the controller at 127\\.0\\.0\\.1:${port} .*is \`bulwark up\` running\\?`));
    const nowhere = await cli(['vms'], { BULWARK_HOME: join(root, 'empty') });
    assert.equal(nowhere.code, 3);
    assert.match(nowhere.stderr, /cannot find the controller/);
  });

  it('exits 2 on a bad controller address or client config, naming the field', async () => {
    const badHome = join(root, 'bad-home');
    mkdirSync(badHome, { recursive: true });
    writeFileSync(join(badHome, 'client.json'), '{"controller": "localhost"}');
    const badFile = await cli(['vms'], { BULWARK_HOME: badHome });
    assert.equal(badFile.code, 2);
    assert.match(badFile.stderr, /client\.json: controller: must be host:port/);
    const badEnv = await cli(['vms'], { BULWARK_CONTROLLER: 'nope' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /BULWARK_CONTROLLER: must be host:port/);
  });

  it('refuses to start with a bad config file (exit 2, naming the field)', async () => {
    const dir = join(root, 'bad-controller');
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ nats: { url: nats.url }, databasePath: join(dir, 'c.db'), heartbeatIntervalMs: -5 }));
    const { command, args } = tsxCommand('controller/main.ts', ['--config', configFile]);
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    assert.equal(code, 2);
    assert.match(stderr, /heartbeatIntervalMs: /);
  });

  it('marks a worker offline when its heartbeats stop, and refuses jobs that need it', async () => {
    beats[2]?.stop();
    await waitFor('storage b offline', async () => {
      const workers = await runCliJson<{ id: string; site: string; state: string }[]>(['workers'], env);
      return workers.find((w) => w.site === 'b' && w.state === 'offline');
    });
    const sync = await cli(['sync']);
    assert.equal(sync.code, 1);
    assert.match(sync.stderr, /no online storage at site b/);
  });
});
