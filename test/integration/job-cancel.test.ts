/**
 * `bulwark cancel` with real processes (nats-server, controller, storages, agent):
 * - a job published to an agent that is away: cancelled while it waits, the agent asks for its
 *   pending cancels when it comes back and reports the job cancelled without running it;
 * - a running backup (its agent frozen with SIGSTOP from the job's start until the request is
 *   sent, so the backup cannot end first): the agent aborts it, drops the storage session and
 *   reports it; the job ends `cancelled`, with no backup in the catalog or the datastore; the
 *   next backup of the VM succeeds and restores byte for byte;
 * - a finished job: refused (exit 1), saying it already finished.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupResult, RestoreResult } from '../../shared/messages/results.js';
import { runCli, runCliJson, type CliResult } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

interface JobRow extends JobView {
  startedAt: string | null;
  cancelRequestedAt?: string | null;
}

describe('bulwark cancel', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([
      { name: 'big', disks: [{ name: 'disk0', sizeMib: 192 }] },
      { name: 'small', disks: [{ name: 'disk0', sizeMib: 16 }] },
    ]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  const backupDirs = (vm: string) => {
    try {
      return readdirSync(join(ctx.deployment.dataDir, 'storage-a', 'datastore', 'backups', vm)).length;
    } catch {
      return 0;
    }
  };
  /** Lines of a daemon's pino log with this message about this job. */
  const logLines = (daemon: string, jobId: string, msg: string) =>
    readFileSync(join(ctx.deployment.dataDir, 'logs', `${daemon}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"jobId":"${jobId}"`) && l.includes(`"msg":"${msg}"`)).length;
  const catalogBackups = async (jobId: string) =>
    (await runCliJson<{ backupId: string; jobId: string }[]>(['backups', '--site', 'a'], ctx.env)).filter((b) => b.jobId === jobId);

  it('cancels a job queued for an agent that is away: the agent, back, reports it cancelled without running it', async () => {
    const agent = ctx.deployment.processes.get('agent-1');
    assert.ok(agent);
    await agent.stop();
    const queued = await runCliJson<JobRow>(['backup', 'small'], ctx.env);
    const asked = await runCliJson<JobRow>(['cancel', queued.id], ctx.env);
    assert.equal(asked.state, 'queued');
    assert.ok(asked.cancelRequestedAt, 'the cancel request is recorded');
    await agent.start();
    const followed = await runCli(['job', queued.id, '--wait', '--json'], ctx.env, 60_000);
    const done = JSON.parse(followed.stdout) as JobRow;
    assert.equal(done.state, 'cancelled', done.error);
    assert.equal(done.error, 'CANCELLED: cancelled before it started');
    assert.equal(done.startedAt, null, 'the queued job never ran');
    assert.equal(followed.code, 1, 'following a job that did not succeed exits 1');
    assert.deepEqual(await catalogBackups(queued.id), []);
  });

  it('cancels a running backup: no backup left, and the next backup restores byte for byte', async () => {
    const agent = ctx.deployment.processes.get('agent-1');
    assert.ok(agent?.pid);
    const dirsBefore = backupDirs('big');
    const running = await runCliJson<JobRow>(['backup', 'big', '--mode', 'full'], ctx.env);
    // Freeze the agent as soon as it starts the job, so the backup cannot end before the cancel
    // reaches it whatever the machine's speed; thaw it once the controller has sent the request.
    await waitFor(`agent-1 starting ${running.id}`, () => (logLines('agent-1', running.id, 'job started') > 0 ? true : undefined), 60_000, 10);
    process.kill(agent.pid, 'SIGSTOP');
    let cancel: Promise<CliResult>;
    try {
      cancel = runCli(['cancel', running.id, '--wait', '--json'], ctx.env, 120_000);
      await waitFor('the cancel request sent', () => (logLines('controller', running.id, 'job cancel requested') > 0 ? true : undefined), 60_000, 20);
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }
    const res = await cancel;
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const cancelled = JSON.parse(res.stdout) as JobRow;
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.error, 'CANCELLED: cancelled on request');
    assert.ok(cancelled.cancelRequestedAt);
    assert.equal(logLines('agent-1', running.id, 'job cancelled'), 1, 'the agent aborted the running job');
    assert.deepEqual(await catalogBackups(running.id), [], 'no backup in the catalog');
    assert.equal(backupDirs('big'), dirsBefore, 'no backup in the datastore');

    const next = await runJob(BackupResult, ['backup', 'big', '--mode', 'full'], ctx.env);
    assert.equal(backupDirs('big'), dirsBefore + 1);
    const target = join(ctx.deployment.dataDir, 'restore-big');
    await runJob(RestoreResult, ['restore', next.backup.backupId, '--to', target], ctx.env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(join(ctx.deployment.dataDir, 'vms', 'big', 'disk0.img')), 'restored byte for byte');
  });

  it('refuses to cancel a finished job, saying so', async () => {
    const [done] = await runCliJson<JobRow[]>(['jobs', '--state', 'succeeded', '--limit', '1'], ctx.env);
    assert.ok(done, 'a succeeded job exists');
    const res = await runCli(['cancel', done.id], ctx.env);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, new RegExp(`job ${done.id} already finished \\(succeeded at [^)]+\\): there is nothing to cancel`));
    const missing = await runCli(['cancel', '01JAAAAAAAAAAAAAAAAAAAAAAA'], ctx.env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /job 01JAAAAAAAAAAAAAAAAAAAAAAA not found/);
  });
});
