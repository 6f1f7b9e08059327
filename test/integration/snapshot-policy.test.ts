/**
 * A snapshot-management policy through the real CLI on the embedded deployment (the demo VM is a
 * qemu-storage-daemon with a qcow2 disk; the `files` demo hypervisor cannot snapshot): created
 * with `--action snapshot --snapshot-keep 2` and a schedule every 2 s, the controller's policy
 * scheduler makes snapshot create jobs on its own (carrying the policy, its priority and dueAt),
 * the agent keeps only the 2 newest bulwark snapshots, show/list print the action, backup-only
 * flags are refused naming the field, and no prune or sync follows. The test writes no backup.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnapshotResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { startTestDeployment, type JobView } from '../helpers/embedded.js';
import { waitFor } from '../helpers/wait-for.js';

interface JobJson {
  id: string;
  kind: string;
  state: string;
  policy: string | null;
  priority: number;
  dueAt: string | null;
  params: unknown;
  error?: string;
}

describe('snapshot policy on a QEMU VM (bulwark up, qemu driver)', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'qvm', disks: [{ name: 'disk0', sizeMib: 16 }] }], 'qemu');
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('makes scheduled snapshots keeping the 2 newest, refuses backup-only fields, and shows the action', async () => {
    const { env } = ctx;
    const refused = await runCli(['policy', 'create', 'bad', '--action', 'snapshot', '--snapshot-keep', '2', '--schedule', '0 2 * * *', '--vm', 'qvm', '--keep-last', '3'], env);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /retention.*backup policies only/);
    const noKeep = await runCli(['policy', 'create', 'bad', '--action', 'snapshot', '--schedule', '0 2 * * *', '--vm', 'qvm'], env);
    assert.equal(noKeep.code, 2, noKeep.stderr);
    assert.match(noKeep.stderr, /snapshotKeep.*required with action snapshot/);

    const created = await runCli(['policy', 'create', 'snaps', '--action', 'snapshot', '--snapshot-keep', '2', '--schedule', '*/2 * * * * *', '--vm', 'qvm', '--priority', '35'], env);
    assert.equal(created.code, 0, created.stderr);
    const shown = await runCli(['policy', 'show', 'snaps'], env);
    assert.match(shown.stdout, /action\s+snapshot \(keeps the 2 newest bulwark snapshots of each VM\)/);
    const listed = await runCli(['policy', 'list'], env);
    assert.match(listed.stdout, /snaps.*yes.*snapshot keep 2/);

    const policyJobs = async () => (await runCliJson<JobJson[]>(['jobs', '--limit', '200'], env)).filter((j) => j.policy === 'snaps');
    await waitFor('three policy snapshots succeeded', async () => ((await policyJobs()).filter((j) => j.state === 'succeeded').length >= 3 ? true : undefined), 60_000, 500);
    const disabled = await runCli(['policy', 'edit', 'snaps', '--disable'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    const jobs = await waitFor('the policy jobs finished', async () => {
      const all = await policyJobs();
      return all.every((j) => j.state !== 'queued' && j.state !== 'running') ? all : undefined;
    });
    for (const j of jobs) {
      assert.equal(j.kind, 'snapshot', 'a snapshot policy makes only snapshot jobs (no prune, no sync)');
      assert.deepEqual(j.params, { vm: 'qvm', op: 'create', keep: 2 });
      assert.equal(j.priority, 35);
      assert.match(j.dueAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d[02468]\.000Z$/, 'due at an even second');
      // Disabling the policy cancels a job it made ahead (held until its due time) and had not sent.
      if (j.state === 'cancelled') assert.match(j.error ?? '', /^CANCELLED: its policy snaps was disabled before the job was sent/);
      else assert.equal(j.state, 'succeeded');
    }
    assert.ok(jobs.filter((j) => j.state === 'succeeded').length >= 3);
    const list = await runCliJson<JobView>(['snapshot', 'list', 'qvm'], env);
    const own = SnapshotResult.parse(list.result).snapshots.filter((s) => s.name.startsWith('bulwark-'));
    assert.equal(own.length, 2, `the 2 newest kept after ${jobs.length} policy snapshots: ${own.map((s) => s.name).join(', ')}`);
  });
});
