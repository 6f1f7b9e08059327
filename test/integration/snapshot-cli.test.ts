/**
 * Snapshot management through the real CLI on the embedded deployment (the demo VM is a
 * qemu-storage-daemon with a qcow2 disk): create with keep-N, list, remove, and a revert the
 * agent refuses while QEMU runs the VM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnapshotResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';

describe('bulwark snapshot on a QEMU VM (bulwark up, qemu driver)', () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'qvm', disks: [{ name: 'disk0', sizeMib: 16 }] }], 'qemu');
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('creates with --keep 2, lists, removes, and refuses a revert while the VM runs', async () => {
    const { env } = ctx;
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runJob(SnapshotResult, ['snapshot', 'create', 'qvm', '--keep', '2'], env);
      assert.match(r.created ?? '', /^bulwark-[0-9A-Z]{26}$/);
      created.push(r.created ?? '');
    }
    const [first, second, third] = created;

    const listed = SnapshotResult.parse((await runCliJson<JobView>(['snapshot', 'list', 'qvm'], env)).result);
    assert.deepEqual(listed.snapshots.map((s) => s.name), [second, third], 'the oldest went beyond --keep 2');
    assert.ok(!listed.snapshots.some((s) => s.name === first));
    assert.deepEqual(listed.snapshots[0]?.disks.map((d) => d.disk), ['disk0']);
    const table = await runCli(['snapshot', 'list', 'qvm'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`${third}.*bulwark.*disk0`));

    const removed = await runJob(SnapshotResult, ['snapshot', 'remove', 'qvm', second ?? ''], env);
    assert.deepEqual(removed.removed, [second]);
    assert.deepEqual(removed.snapshots.map((s) => s.name), [third]);

    const refused = await runCli(['snapshot', 'revert', 'qvm', third ?? '', '--wait'], env);
    assert.equal(refused.code, 1, `exit code 1 for a refused job\n${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /stop the VM first \(revert needs QEMU to release the images\)/);

    const badKeep = await runCli(['snapshot', 'create', 'qvm', '--keep', '0'], env);
    assert.equal(badKeep.code, 2);
    assert.match(badKeep.stderr, /--keep <n>.*must be at least 1/);
  });
});
