/**
 * The controller is killed with SIGKILL while a backup runs, and restarted: the job finishes and
 * is recorded exactly once (the agent's result waits in JetStream; the controller applies it
 * once on restart). Then the backup is verified and restored byte for byte.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupResult, RestoreResult, VerifyResult } from '../../shared/messages/results.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { GetJobRequest } from '../../shared/rpc/generated/bulwark/v1/GetJobRequest.js';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import { createControllerClient } from '../../shared/rpc/proto-packages.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

describe('controller killed mid-backup', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'big', disks: [{ name: 'disk0', sizeMib: 384 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('finishes the job and records its backup once', async () => {
    const { env, deployment } = ctx;
    const started = await runCliJson<JobView>(['backup', 'big'], env);
    const controller = deployment.processes.get('controller');
    assert.ok(controller);

    const client = createControllerClient(deployment.controllerAddress, { token: deployment.adminToken });
    await waitFor('the backup to run', async () => {
      const job = await callUnary<GetJobRequest, Job__Output>('controller', (r, o, cb) => client.GetJob(r, o, cb), { id: started.id });
      assert.notEqual(job.state, 'succeeded', 'the backup finished before the controller could be killed; use a larger disk');
      return job.state === 'running' ? true : undefined;
    }, 60_000, 20);
    client.close();
    await controller.kill();

    // The agent goes on without the controller; its result waits in JetStream.
    await controller.start();
    const done = await runCli(['job', started.id, '--wait', '--json'], env);
    assert.equal(done.code, 0, done.stderr);
    const job = JSON.parse(done.stdout) as JobView;
    assert.equal(job.state, 'succeeded');
    const result = BackupResult.parse(job.result);

    const backups = await runCliJson<{ backupId: string; jobId: string; site: string }[]>(['backups', '--vm', 'big'], env);
    const mine = backups.filter((b) => b.jobId === started.id);
    assert.equal(mine.length, 1, 'exactly one backup recorded for the job');
    assert.equal(mine[0]?.backupId, result.backup.backupId);

    await runJob(VerifyResult, ['verify', '--site', 'a'], env);
    const target = join(deployment.dataDir, 'restore');
    await runJob(RestoreResult, ['restore', result.backup.backupId, '--to', target], env);
    assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(join(deployment.dataDir, 'vms', 'big', 'disk0.img')));
  });
});
