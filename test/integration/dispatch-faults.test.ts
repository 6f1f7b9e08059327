/**
 * Job dispatch over JetStream survives the death of what carries it, with real processes:
 * - the agent SIGKILLed mid-backup: JetStream redelivers the job (never acked) to the restarted
 *   agent, the redelivered attempt replaces the dead one's open upload session, and the job ends
 *   with exactly one backup — in the controller's catalog and in the storage's datastore;
 * - nats-server restarted mid-backup: the agent, the storages and the controller reconnect, the
 *   job finishes, and its backup is recorded once.
 * Each backup is then restored byte for byte.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControllerApi } from '../../controller/cli/controller-api.js';
import { BackupResult, RestoreResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

/** One VM per scenario: a second full backup of the same data sends nothing and ends too soon to interrupt. */
const VMS = ['busy', 'fresh'] as const;
type Vm = (typeof VMS)[number];

describe('job dispatch through an agent kill and a nats-server restart', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment(VMS.map((name) => ({ name, disks: [{ name: 'disk0', sizeMib: 384 }] })));
  });
  after(async () => {
    await ctx?.cleanup();
  });

  const backupDirs = (vm: Vm) => {
    try {
      return readdirSync(join(ctx.deployment.dataDir, 'storage-a', 'datastore', 'backups', vm));
    } catch {
      return [];
    }
  };

  /**
   * Starts a backup and resolves once the agent reports it running (it must not have finished).
   * Polled through the API in this process: a CLI process per poll takes about as long as the
   * whole backup.
   */
  async function startRunningBackup(vm: Vm): Promise<string> {
    const started = await runCliJson<JobView>(['backup', vm, '--mode', 'full'], ctx.env);
    const api = new ControllerApi({ address: ctx.deployment.controllerAddress, source: 'test', token: ctx.deployment.adminToken });
    await api.connect();
    try {
      await waitFor(
        `backup ${started.id} running`,
        async () => {
          const job = await api.getJob(started.id);
          assert.notEqual(job.state, 'succeeded', 'the backup finished before the fault; use a larger disk');
          return job.state === 'running' ? true : undefined;
        },
        60_000,
        5,
      );
    } finally {
      api.close();
    }
    return started.id;
  }

  /** Waits for the job's end and checks it made exactly one backup, then restores it byte for byte. */
  async function expectOneBackup(vm: Vm, jobId: string, dirsBefore: number, label: string): Promise<void> {
    const done = await runCli(['job', jobId, '--wait', '--json'], ctx.env, 240_000);
    assert.equal(done.code, 0, done.stderr);
    const job = JSON.parse(done.stdout) as JobView;
    assert.equal(job.state, 'succeeded', `${label}: ${job.error ?? ''}`);
    const result = BackupResult.parse(job.result);
    const recorded = (await runCliJson<{ backupId: string; jobId: string }[]>(['backups', '--vm', vm, '--site', 'a'], ctx.env)).filter((b) => b.jobId === jobId);
    assert.deepEqual(recorded.map((b) => b.backupId), [result.backup.backupId], `${label}: one backup in the catalog`);
    assert.equal(backupDirs(vm).length, dirsBefore + 1, `${label}: one backup in the datastore`);
    const target = join(ctx.deployment.dataDir, `restore-${jobId}`);
    await runJob(RestoreResult, ['restore', result.backup.backupId, '--to', target], ctx.env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(join(ctx.deployment.dataDir, 'vms', vm, 'disk0.img')), `${label}: restored byte for byte`);
  }

  it('finishes a backup whose agent was SIGKILLed mid-run, with exactly one backup, on redelivery', async () => {
    const agent = ctx.deployment.processes.get('agent-1');
    assert.ok(agent);
    const dirsBefore = backupDirs('busy').length;
    const jobId = await startRunningBackup('busy');
    await agent.kill();
    await agent.start();
    await expectOneBackup('busy', jobId, dirsBefore, 'agent killed');
  });

  it('finishes a backup across a nats-server restart, every component reconnecting', async () => {
    const dirsBefore = backupDirs('fresh').length;
    const jobId = await startRunningBackup('fresh');
    await ctx.deployment.nats.restart();
    await expectOneBackup('fresh', jobId, dirsBefore, 'nats-server restarted');
    // Everything still takes new work after the restart.
    const next = await runJob(BackupResult, ['backup', 'fresh'], ctx.env);
    assert.equal(next.backup.mode, 'incremental');
  });
});
