/**
 * Crash safety of the datastore with real processes: the storage is killed with SIGKILL at
 * seeded random instants while the agent backs a changing disk up, many times. Afterwards a
 * verify finds no damaged chunk and no manifest referencing a missing chunk, and every
 * committed backup restores byte for byte to the disk as it was when that backup ran.
 *
 * BULWARK_CRASH_ITERATIONS sets the number of kills (default 6; the soak run uses 60).
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { mutateDemoDisk } from '../../controller/cli/up/demo-disk.js';
import { InlineChunkProcessor } from '../../node-agent/adapters/inline-chunk-processor.js';
import { GrpcBlockStore } from '../../node-agent/adapters/grpc-block-store.js';
import { loadAgentKeys } from '../../node-agent/encryption/agent-keys.js';
import { runRestore } from '../../node-agent/restore/restore-job.js';
import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { VerifyResult } from '../../shared/messages/results.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob, startTestDeployment, type JobView } from '../helpers/embedded.js';
import { fileSha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/wait-for.js';

const iterations = Number(process.env.BULWARK_CRASH_ITERATIONS ?? 6);

describe(`storage SIGKILLed during backups (${iterations} times)`, () => {
  let ctx: Awaited<ReturnType<typeof startTestDeployment>>;

  before(async () => {
    ctx = await startTestDeployment([{ name: 'crashy', disks: [{ name: 'disk0', sizeMib: 96 }] }]);
  });
  after(async () => {
    await ctx?.cleanup();
  });

  it('leaves a consistent datastore whose every backup restores', async () => {
    const { env, deployment } = ctx;
    const storage = deployment.processes.get('storage-a');
    assert.ok(storage);
    const disk = join(deployment.dataDir, 'vms', 'crashy', 'disk0.img');
    const rng = new SeededBytes('storage-crash');
    const imageOf = new Map<string, string>();
    const outcomes = { committed: 0, failed: 0, restored: 0 };

    for (let i = 0; i < iterations; i++) {
      await mutateDemoDisk(disk, 0.05, `crash-${i}`);
      const job = await runCliJson<JobView>(['backup', 'crashy'], env);
      const copy = join(deployment.dataDir, `image-${i}.img`);
      copyFileSync(disk, copy);
      imageOf.set(job.id, copy);
      // A seeded random instant within the backup's usual duration (a few hundred ms here).
      await sleep(rng.int(900));
      await storage.kill();
      await storage.start();
      const end = await runCli(['job', job.id, '--wait', '--json'], env);
      const state = (JSON.parse(end.stdout) as JobView).state;
      assert.ok(state === 'succeeded' || state === 'failed', `job ${job.id} ended ${state}: ${end.stderr}`);
      if (state === 'succeeded') outcomes.committed++;
      else outcomes.failed++;
      // The agent must see the restarted storage before the next round.
      await waitFor('storage a online', async () => {
        const workers = await runCliJson<{ site: string; id: string; state: string }[]>(['workers'], env);
        return workers.some((w) => w.site === 'a' && w.id === 'storage' && w.state === 'online') ? true : undefined;
      }, 30_000, 200);
    }
    // One more backup that runs to its end, so at least one backup surely exists.
    await mutateDemoDisk(disk, 0.05, 'crash-final');
    const final = await runCliJson<JobView>(['backup', 'crashy'], env);
    const finalCopy = join(deployment.dataDir, 'image-final.img');
    copyFileSync(disk, finalCopy);
    imageOf.set(final.id, finalCopy);
    await runCli(['job', final.id, '--wait', '--json'], env);

    const verify = await runJob(VerifyResult, ['verify', '--site', 'a', '--force'], env);
    assert.deepEqual(verify.chunks, [], 'no damaged or missing chunk');
    assert.deepEqual(verify.damagedFiles, [], 'no damaged manifest or index');

    // Every backup storage holds, including one whose commit landed just before a kill (its job
    // then failed and the catalog never heard of it), restores byte for byte with the agent's code.
    const store = new GrpcBlockStore(deployment.storages.a ?? '', { token: deployment.agentToken });
    const keys = await loadAgentKeys('test', {
      keyFile: join(deployment.dataDir, 'key', 'key.json'),
      passphraseFile: join(deployment.dataDir, 'key', 'passphrase'),
    });
    try {
      const backups = await store.listBackups('crashy');
      assert.ok(backups.length >= 1);
      assert.equal(new Set(backups.map((b) => b.jobId)).size, backups.length, 'one backup per job at most');
      const catalog = await runCliJson<{ backupId: string }[]>(['backups', '--vm', 'crashy', '--site', 'a'], env);
      const held = new Set(backups.map((b) => b.backupId));
      for (const b of catalog) assert.ok(held.has(b.backupId), `catalog backup ${b.backupId} is in the datastore`);
      for (const backup of backups) {
        const expected = imageOf.get(backup.jobId);
        assert.ok(expected, `backup ${backup.backupId} belongs to a job of this test`);
        const target = join(deployment.dataDir, `restore-${backup.backupId}`);
        await runRestore(
          { backupId: backup.backupId, vm: 'crashy', targetDir: target },
          { store, log: silentLogger(), clock: systemClock, keys, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
        );
        assert.equal(await fileSha256(join(target, 'disk0.img')), await fileSha256(expected), `backup ${backup.backupId} restores byte for byte`);
      }
      outcomes.restored = backups.length;
    } finally {
      store.close();
    }
    process.stdout.write(`# storage kills: ${iterations}, jobs committed: ${outcomes.committed}, failed: ${outcomes.failed}, backups restored: ${outcomes.restored}\n`);
  });
});
