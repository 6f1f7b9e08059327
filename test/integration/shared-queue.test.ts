/**
 * A site's shared queue with real processes: two agents at site a report the same VMs (the
 * `files` driver over the same image files, as agents reaching one hypervisor or disks on shared
 * storage would), so the controller sends those VMs' jobs to `bulwark.jobs.a.shared`.
 * - Several backups at once: both agents run some, each job starts once (the agents' logs), each
 *   makes exactly one backup (catalog and datastore), and the job names the agent that ran it.
 * - The agent running a backup is SIGKILLed: the other one finishes the job on redelivery (short
 *   ack wait), with exactly one backup.
 * Every backup is then restored byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManagedProcess, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { BackupResult, RestoreResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

const VMS = ['web', 'db', 'mail'] as const;
const BIG = 'big';
const ACK_WAIT_MS = 5000;

interface JobRow extends JobView {
  worker: string;
  vm: string | null;
}

describe('a shared queue per site, two agents reporting the same VMs', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;
  let agent2: ManagedProcess | undefined;
  const agents = new Map<string, ManagedProcess>();
  const backups: { vm: string; backupId: string }[] = [];

  before(async () => {
    ctx = await startTestDeployment([
      ...VMS.map((name) => ({ name, disks: [{ name: 'disk0', sizeMib: 48 }] })),
      { name: BIG, disks: [{ name: 'disk0', sizeMib: 128 }] },
    ]);
    const { dataDir } = ctx.deployment;
    // agent-1 again with a short ack wait, then agent-2: the same config (same image files).
    const agent1 = ctx.deployment.processes.get('agent-1');
    assert.ok(agent1);
    const configFile = join(dataDir, 'agent-1', 'config.json');
    const config = { ...(JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>), jobAckWaitMs: ACK_WAIT_MS };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    await agent1.stop();
    await agent1.start();
    const dir2 = join(dataDir, 'agent-2');
    mkdirSync(dir2, { recursive: true });
    writeFileSync(join(dir2, 'config.json'), JSON.stringify({ ...config, worker: 'agent-2' }, null, 2));
    const { command, args } = tsxCommand('node-agent/main.ts', ['--config', join(dir2, 'config.json'), '--ready-file', join(dir2, 'ready.json')]);
    agent2 = new ManagedProcess({ name: 'agent-2', command, args, logFile: join(dataDir, 'logs', 'agent-2.log'), readyFile: join(dir2, 'ready.json') });
    await agent2.start();
    agents.set('agent-1', agent1);
    agents.set('agent-2', agent2);
    // Both inventories applied: a new job of a VM goes to the shared queue.
    await waitFor(
      'both agents reporting every VM',
      async () => {
        const workers = await runCliJson<{ site: string; id: string; state: string }[]>(['workers'], ctx.env);
        if (!workers.some((w) => w.id === 'agent-2' && w.state === 'online')) return undefined;
        const vms = await runCliJson<{ name: string; worker: string }[]>(['vms'], ctx.env);
        return vms.length === VMS.length + 1 && vms.every((v) => v.worker === 'agent-2') ? true : undefined;
      },
      30_000,
      200,
    );
  });
  after(async () => {
    await agent2?.stop();
    await ctx?.cleanup();
  });

  const backupDirs = (vm: string) => {
    try {
      return readdirSync(join(ctx.deployment.dataDir, 'storage-a', 'datastore', 'backups', vm)).length;
    } catch {
      return 0;
    }
  };
  /** How many times each agent logged this message about the job (pino JSON lines). */
  const startsOf = (jobId: string, msg = 'job started'): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const name of agents.keys()) {
      const lines = readFileSync(join(ctx.deployment.dataDir, 'logs', `${name}.log`), 'utf8').split('\n');
      counts[name] = lines.filter((l) => l.includes(`"jobId":"${jobId}"`) && l.includes(`"msg":"${msg}"`)).length;
    }
    return counts;
  };
  async function expectOneBackup(jobId: string, vm: string, dirsBefore: number): Promise<JobRow> {
    const done = await runCli(['job', jobId, '--wait', '--json'], ctx.env, 120_000);
    assert.equal(done.code, 0, done.stderr);
    const job = JSON.parse(done.stdout) as JobRow;
    assert.equal(job.state, 'succeeded', job.error);
    const result = BackupResult.parse(job.result);
    const recorded = (await runCliJson<{ backupId: string; jobId: string }[]>(['backups', '--vm', vm, '--site', 'a'], ctx.env)).filter((b) => b.jobId === jobId);
    assert.deepEqual(recorded.map((b) => b.backupId), [result.backup.backupId], `${vm}: one backup in the catalog`);
    assert.equal(backupDirs(vm), dirsBefore + 1, `${vm}: one backup in the datastore`);
    backups.push({ vm, backupId: result.backup.backupId });
    return job;
  }

  it('spreads backups over both agents, each job run once and each backup made once', async () => {
    const dirsBefore = new Map(VMS.map((vm) => [vm, backupDirs(vm)]));
    const started = await Promise.all(VMS.map((vm) => runCliJson<JobRow>(['backup', vm, '--mode', 'full'], ctx.env)));
    for (const job of started) assert.equal(job.worker, 'shared', `job ${job.id} went to the shared queue`);
    const done = await Promise.all(VMS.map((vm, i) => expectOneBackup(started[i]?.id ?? '', vm, dirsBefore.get(vm) ?? 0)));
    for (const job of done) {
      assert.ok(job.worker === 'agent-1' || job.worker === 'agent-2', `job ${job.id} names the agent that ran it (${job.worker})`);
      const starts = startsOf(job.id);
      assert.equal((starts['agent-1'] ?? 0) + (starts['agent-2'] ?? 0), 1, `job ${job.id} started once: ${JSON.stringify(starts)}`);
      assert.equal(starts[job.worker], 1, `job ${job.id} ran at ${job.worker}`);
    }
    assert.deepEqual(new Set(done.map((j) => j.worker)), new Set(['agent-1', 'agent-2']), 'both agents ran some');
  });

  it('finishes a shared backup at the other agent when the one running it is SIGKILLed', async () => {
    const dirsBefore = backupDirs(BIG);
    const started = await runCliJson<JobRow>(['backup', BIG, '--mode', 'full'], ctx.env);
    // Killed as soon as its upload session is open (the agent's log says so), whatever the machine's speed.
    const runner = await waitFor(
      `an agent uploading ${started.id}`,
      () => Object.entries(startsOf(started.id, 'backup started')).find(([, count]) => count > 0)?.[0],
      60_000,
      10,
    );
    const victim = agents.get(runner);
    assert.ok(victim, `running at ${runner}`);
    await victim.kill();
    assert.equal(startsOf(started.id, 'backup committed')[runner], 0, 'killed mid-backup');
    const survivor = runner === 'agent-1' ? 'agent-2' : 'agent-1';
    const job = await expectOneBackup(started.id, BIG, dirsBefore);
    assert.equal(job.worker, survivor, 'the job names the agent that finished it');
    assert.equal(startsOf(started.id)[survivor], 1, 'redelivered once to the survivor');
    await victim.start();
  });

  it('restores every backup byte for byte', async () => {
    assert.equal(backups.length, VMS.length + 1);
    // At once: the restores go to the shared queue too, and both agents take some.
    await Promise.all(
      backups.map(async ({ vm, backupId }) => {
        const target = join(ctx.deployment.dataDir, `restore-${backupId}`);
        await runJob(RestoreResult, ['restore', backupId, '--to', target], ctx.env);
        assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(join(ctx.deployment.dataDir, 'vms', vm, 'disk0.img')), `${vm} restored byte for byte`);
      }),
    );
  });
});
