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
import type { StartPruneRequest } from '../../shared/rpc/generated/bulwark/v1/StartPruneRequest.js';
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
          verifyOnly: job.params.verifyOnly,
          site: job.params.storage.site,
          targetDir: job.params.targetDir,
          disks: [],
          bytesWritten: 0,
          chunksFetched: 0,
          durationMs: 1,
          started: null,
        },
      };
    }
    throw new AppError('FAILED_PRECONDITION', `an agent does not run ${job.kind} jobs`);
  };

  release(jobId: string): void {
    this.held.get(jobId)?.();
  }
}

/**
 * A fake storage at site a: answers prune (keeps the newest `keepLast` of the backups it was
 * given, per the job's rules), gc, lock and verify jobs with plausible results.
 */
class FakeStorage {
  readonly received: JobMessage[] = [];
  backups: { backupId: string; vm: string; createdAt: string }[] = [];

  handle = (job: JobMessage): Promise<JobResult> => {
    this.received.push(job);
    const now = systemClock.nowIso();
    switch (job.kind) {
      case 'prune': {
        const last = job.params.keep.last ?? 0;
        const sorted = [...this.backups].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
        const decide = (keptBy: string[]) => (b: (typeof sorted)[number]) => ({ ...b, keptBy });
        return Promise.resolve({
          kind: 'prune',
          result: {
            site: 'a',
            dryRun: job.params.dryRun,
            kept: sorted.slice(0, last).map((b, i) => decide([`last ${i + 1}`])(b)),
            removed: sorted.slice(last).map(decide([])),
            durationMs: 1,
          },
        });
      }
      case 'gc':
        return Promise.resolve({
          kind: 'gc',
          result: { site: 'a', dryRun: job.params.dryRun, chunksScanned: 10, chunksReferenced: 7, chunksInGrace: 1, chunksRemoved: 2, bytesReclaimed: 2 << 20, durationMs: 1 },
        });
      case 'lock':
        return Promise.resolve({ kind: 'lock', result: { site: 'a', backupId: job.params.backupId, lockedUntil: job.params.until } });
      case 'verify': {
        const ids = job.params.backupId !== undefined ? [job.params.backupId] : this.backups.map((b) => b.backupId);
        return Promise.resolve({
          kind: 'verify',
          result: {
            site: 'a',
            backupsChecked: ids.length,
            chunksChecked: ids.length,
            bytesChecked: ids.length,
            damagedFiles: [],
            chunks: [],
            repaired: 0,
            unrepaired: 0,
            verifiedBackupIds: ids,
            verifiedAt: now,
            skippedBackupIds: [],
            durationMs: 1,
          },
        });
      }
      default:
        return Promise.reject(new AppError('FAILED_PRECONDITION', `a storage does not run ${job.kind} jobs`));
    }
  };
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
  const storage = new FakeStorage();
  let storageWorker: JobWorker;
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
        verifySkipWithinMs: 3_600_000,
        // This test is about the CLI and dispatch, not access (test/integration/api-access.test.ts).
        access: { anonymousRole: 'admin' },
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
    storageWorker = new JobWorker({ nc, site: 'a', worker: 'storage', handler: storage.handle, log, clock: systemClock });
    await storageWorker.start();
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
    await storageWorker?.stop();
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

  it('prune --dry-run prints each backup with "remove" or the rule that keeps it, and removes nothing', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await cli(['backup', 'vm1', '--wait'])).code, 0);
    const before = await runCliJson<{ backupId: string; vm: string; createdAt: string }[]>(['backups', '--site', 'a'], env);
    assert.ok(before.length >= 3);
    storage.backups = before.map((b) => ({ backupId: b.backupId, vm: b.vm, createdAt: b.createdAt }));
    const [newest, ...older] = before;
    assert.ok(newest);

    const res = await cli(['prune', '--keep-last', '1', '--dry-run']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /BACKUP +│? *VM +│? *CREATED +│? *DECISION/);
    assert.match(res.stdout, new RegExp(`${newest.backupId} .*vm1 .*last 1`));
    for (const b of older) assert.match(res.stdout, new RegExp(`${b.backupId} .*vm1 .* remove `));
    assert.match(res.stdout, new RegExp(`dry run at site a: ${older.length} of ${before.length} backup\\(s\\) would be removed; nothing was removed`));
    const sent = storage.received.at(-1);
    assert.equal(sent?.kind, 'prune');
    assert.deepEqual(sent?.params, { keep: { last: 1 }, dryRun: true });
    assert.equal((await runCliJson<unknown[]>(['backups', '--site', 'a'], env)).length, before.length, 'a dry run removes nothing');
  });

  it('prune removes what no rule keeps from the backups listing', async () => {
    const listed = await runCliJson<{ backupId: string }[]>(['backups', '--site', 'a'], env);
    const done = await runCliJson<JobJson>(['prune', '--site', 'a', '--vm', 'vm1', '--keep-last', '2', '--keep-daily', '7', '--wait'], env);
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(done.params, { vm: 'vm1', keep: { last: 2, daily: 7 }, dryRun: false });
    const after = await runCliJson<{ backupId: string }[]>(['backups', '--site', 'a'], env);
    assert.deepEqual(after.map((b) => b.backupId), listed.slice(0, 2).map((b) => b.backupId));
    storage.backups = storage.backups.filter((b) => after.some((a) => a.backupId === b.backupId));
  });

  it('lock records locked-until on every copy and shows it in backups', async () => {
    const [backup] = await runCliJson<{ backupId: string }[]>(['backups', '--site', 'a'], env);
    assert.ok(backup);
    const jobs = await runCliJson<JobJson[]>(['lock', backup.backupId, '--until', '2099-01-01', '--wait'], env);
    assert.deepEqual(jobs.map((j) => `${j.kind}:${j.state}`), ['lock:succeeded']);
    assert.deepEqual(jobs[0]?.params, { backupId: backup.backupId, until: '2099-01-01T00:00:00.000Z' });
    const listed = await runCliJson<{ backupId: string; lockedUntil: string }[]>(['backups'], env);
    assert.equal(listed.find((b) => b.backupId === backup.backupId)?.lockedUntil, '2099-01-01T00:00:00.000Z');
    const table = await cli(['backups']);
    assert.match(table.stdout, /LOCKED UNTIL/);
    assert.match(table.stdout, new RegExp(`${backup.backupId} .*2099-01-01 00:00:00Z`));

    const shorter = await cli(['lock', backup.backupId, '--until', '30d']);
    assert.equal(shorter.code, 1);
    assert.match(shorter.stderr, /locked at site a until 2099-01-01T00:00:00.000Z: a lock can only be extended/);
    const elsewhere = await cli(['lock', backup.backupId, '--until', '2100-01-01', '--site', 'b']);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /has no copy at site b \(copies at: a\)/);
  });

  it('gc sends the grace period and reports what it reclaimed', async () => {
    const res = await cli(['gc', '--grace', '15m', '--dry-run', '--wait']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /would remove +2 chunk\(s\), 2\.0 MiB/);
    assert.deepEqual(storage.received.at(-1)?.params, { graceMs: 900_000, dryRun: true });
    const defaults = await runCliJson<JobJson>(['gc'], env);
    assert.deepEqual(defaults.params, { graceMs: 3_600_000, dryRun: false }, "the controller's default grace");
  });

  it('verify sends the backup, VM, force and skip age, and records verifiedAt', async () => {
    const [backup] = await runCliJson<{ backupId: string; verifiedAt: string }[]>(['backups', '--site', 'a'], env);
    assert.ok(backup);
    const one = await runCliJson<JobJson>(['verify', '--backup', backup.backupId, '--force', '--wait'], env);
    assert.equal(one.state, 'succeeded');
    assert.deepEqual(one.params, { repair: false, peers: [{ site: 'b', address: '127.0.0.1:7102' }], backupId: backup.backupId, skipVerifiedWithinMs: 3_600_000, force: true });
    const listed = await runCliJson<{ backupId: string; verifiedAt: string }[]>(['backups', '--site', 'a'], env);
    assert.notEqual(listed.find((b) => b.backupId === backup.backupId)?.verifiedAt, '');

    const vm = await runCliJson<JobJson>(['verify', '--vm', 'vm1', '--skip-within', '0s', '--repair'], env);
    assert.deepEqual(vm.params, { repair: true, peers: [{ site: 'b', address: '127.0.0.1:7102' }], vm: 'vm1', skipVerifiedWithinMs: 0, force: false });
    const table = await cli(['job', vm.id, '--wait']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /verified at +\d{4}-/);
  });

  it('verify --with-key sends a verify-only restore to the VM agent', async () => {
    const [backup] = await runCliJson<{ backupId: string }[]>(['backups', '--vm', 'vm1'], env);
    assert.ok(backup);
    const res = await cli(['verify', '--with-key', '--vm', 'vm1', '--wait']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`deep verify +${backup.backupId} at site a: every chunk decrypted and checked`));
    const sent = agent.received.at(-1);
    assert.equal(sent?.kind, 'restore');
    assert.deepEqual(sent?.params, { backupId: backup.backupId, vm: 'vm1', targetDir: '/', storage: { site: 'a', address: '127.0.0.1:7101' }, verifyOnly: true, format: 'raw', start: false });
  });

  it('rejects bad prune, gc, lock and verify input with exit 2, naming the option and the rule', async () => {
    const cases: [string[], RegExp][] = [
      [['prune'], /--keep-last \| --keep-hourly \| .*--keep-yearly: give at least one retention rule/],
      [['prune', '--keep-last', '0'], /--keep-last <n>.*must be at least 1/],
      [['prune', '--keep-daily', 'seven'], /--keep-daily <n>.*must be a whole number/],
      [['gc', '--grace', '1x'], /--grace <duration>.*must be a duration like 30s, 15m, 1h or 7d/],
      [['lock', 'B1'], /required option '--until <date\|duration>' not specified/],
      [['lock', 'B1', '--until', 'tomorrow'], /--until <date\|duration>.*must be a date \(2027-01-01, UTC\)/],
      [['lock', 'B1', '--until', '2020-01-01'], /--until <date\|duration>.*must be in the future/],
      [['verify', '--backup', 'B1', '--vm', 'vm1'], /option '--backup <id>' cannot be used with option '--vm <vm>'/],
      [['verify', '--with-key'], /--with-key: needs --backup <id> or --vm <vm>/],
      [['verify', '--with-key', '--backup', 'B1', '--repair'], /option '--with-key' cannot be used with option '--repair'/],
      [['verify', '--skip-within', 'soon'], /--skip-within <duration>.*must be a duration/],
    ];
    for (const [args, pattern] of cases) {
      const res = await cli(args);
      assert.equal(res.code, 2, `bulwark ${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, pattern, `bulwark ${args.join(' ')}`);
    }
    const client = createControllerClient(address);
    try {
      await assert.rejects(
        callUnary<StartPruneRequest, Job__Output>('controller', (r, o, cb) => client.startPrune(r, o, cb), { site: 'a' }),
        (err: unknown) => err instanceof AppError && err.code === 'INVALID_ARGUMENT' && /^keep: give at least one retention rule/.test(err.message),
      );
    } finally {
      client.close();
    }
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
