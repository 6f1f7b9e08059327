import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../shared/clock.js';
import { NotFoundError } from '../../../shared/errors.js';
import { decodeManifest } from '../../../shared/format/manifest.js';
import { silentLogger } from '../../../shared/log.js';
import { InlineChunkProcessor } from '../../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../../adapters/memory-block-store.js';
import { runBackup } from '../../backup/backup-job.js';
import { runRestore } from '../../restore/restore-job.js';
import { SimHypervisor } from './sim-config.js';
import { SimDiskModel } from './sim-disk-model.js';
import { SimDriver } from './sim-driver.js';

const CHUNK = 64 * 1024;
const log = silentLogger();
const config = (over: Record<string, unknown> = {}) =>
  SimHypervisor.parse({ kind: 'sim', seed: 7, vmCount: 3, diskSizeBytes: 32 * CHUNK, changeFraction: 0.1, ...over });

async function viewBytes(driver: SimDriver, vm: string): Promise<Buffer[]> {
  const view = await driver.openBackupView(vm);
  const out = await Promise.all(view.disks.map((d) => d.read(0, d.sizeBytes)));
  await view.finish(true);
  return out;
}

describe('sim driver', () => {
  it('gives the same bytes for the same seed and other bytes for another seed', async () => {
    const clock = new ManualClock();
    const a = new SimDriver(config(), clock);
    const b = new SimDriver(config(), clock);
    const c = new SimDriver(config({ seed: 8 }), clock);
    for (let gen = 0; gen < 3; gen++) {
      const [fromA, fromB, fromC] = await Promise.all([viewBytes(a, 'sim-vm-00001'), viewBytes(b, 'sim-vm-00001'), viewBytes(c, 'sim-vm-00001')]);
      assert.ok(fromA[0]?.equals(fromB[0] ?? Buffer.alloc(0)), `generation ${gen}: same seed, same bytes`);
      assert.ok(!fromA[0]?.equals(fromC[0] ?? Buffer.alloc(0)), `generation ${gen}: another seed, other bytes`);
      assert.ok(fromA[0]?.equals(a.model.diskBytes('sim-vm-00001', 'disk0', gen)), 'the model says what the view reads');
    }
  });

  it('names VMs from the prefix and index, lists their disks, and refuses an unknown VM', async () => {
    const driver = new SimDriver(config({ namePrefix: 'g1-a2', firstIndex: 40, disksPerVm: 2 }), new ManualClock());
    const inventory = await driver.inventory();
    assert.deepEqual(inventory.map((v) => v.name), ['g1-a2-00040', 'g1-a2-00041', 'g1-a2-00042']);
    assert.deepEqual(inventory[0]?.disks, [{ name: 'disk0', sizeBytes: 32 * CHUNK }, { name: 'disk1', sizeBytes: 32 * CHUNK }]);
    await assert.rejects(driver.openBackupView('sim-vm-00000'), NotFoundError);
    assert.equal(inventory[0]?.tags, undefined, 'no tags configured: none reported');
    const tagged = await new SimDriver(config({ tags: ['tier:gold', 'scale'] }), new ManualClock()).inventory();
    assert.deepEqual(tagged[0]?.tags, ['tier:gold', 'scale'], 'configured tags are in the inventory (policy selectors use them)');
  });

  it('changes a seeded set of blocks, the configured fraction of the disk, per generation', () => {
    const model = new SimDiskModel(config({ diskSizeBytes: 1000 * 4096, blockBytes: 4096, changeFraction: 0.05 }));
    const gen1 = model.changedBlocks('sim-vm-00000', 'disk0', 1);
    assert.equal(gen1.length, 50);
    assert.equal(new Set(gen1).size, 50, 'distinct blocks');
    assert.deepEqual(model.changedBlocks('sim-vm-00000', 'disk0', 1), gen1, 'deterministic');
    assert.notDeepEqual(model.changedBlocks('sim-vm-00000', 'disk0', 2), gen1, 'another generation, another set');
    assert.notDeepEqual(model.changedBlocks('sim-vm-00001', 'disk0', 1), gen1, 'another VM, another set');
    const before = model.diskBytes('sim-vm-00000', 'disk0', 0);
    const after1 = model.diskBytes('sim-vm-00000', 'disk0', 1);
    const differing = [];
    for (let b = 0; b < 1000; b++) if (!before.subarray(b * 4096, (b + 1) * 4096).equals(after1.subarray(b * 4096, (b + 1) * 4096))) differing.push(b);
    assert.deepEqual(differing, gen1, 'exactly the changed blocks differ');
  });

  it('shares generation 0 between VMs with baseImage shared, and not with per-vm', () => {
    const shared = new SimDiskModel(config());
    assert.ok(shared.diskBytes('sim-vm-00000', 'disk0', 0).equals(shared.diskBytes('sim-vm-00001', 'disk0', 0)));
    assert.ok(!shared.diskBytes('sim-vm-00000', 'disk0', 1).equals(shared.diskBytes('sim-vm-00001', 'disk0', 1)));
    const own = new SimDiskModel(config({ baseImage: 'per-vm' }));
    assert.ok(!own.diskBytes('sim-vm-00000', 'disk0', 0).equals(own.diskBytes('sim-vm-00001', 'disk0', 0)));
  });

  it('rejects a disk size that is no multiple of the block size, naming the field', () => {
    const res = SimHypervisor.safeParse({ kind: 'sim', vmCount: 1, diskSizeBytes: 100_000 });
    assert.equal(res.success, false);
    assert.deepEqual(res.error?.issues[0]?.path, ['diskSizeBytes']);
    assert.match(res.error?.issues[0]?.message ?? '', /multiple of blockBytes/);
  });

  it('keeps snapshots in memory; a revert sets the disk back to the snapshot and drops the base checkpoint', async () => {
    const driver = new SimDriver(config(), new ManualClock());
    const vm = 'sim-vm-00000';
    await viewBytes(driver, vm);
    const made = await driver.snapshots.create(vm, { id: '01A', keep: 1 });
    assert.equal(made.created, 'bulwark-01A');
    const atSnapshot = driver.model.diskBytes(vm, 'disk0', 1);
    await viewBytes(driver, vm);
    await viewBytes(driver, vm);
    await driver.snapshots.create(vm, { name: 'mine' });
    const second = await driver.snapshots.create(vm, { id: '01B', keep: 1 });
    assert.deepEqual(second.removed, ['bulwark-01A'], 'keep 1 prunes the older own snapshot');
    assert.deepEqual((await driver.snapshots.list(vm)).snapshots.map((s) => s.name), ['mine', 'bulwark-01B']);
    await driver.snapshots.revert(vm, 'mine');
    const view = await driver.openBackupView(vm);
    assert.equal(view.baseCheckpoint, null, 'no base after a revert');
    assert.ok((await view.disks[0]!.read(0, view.disks[0]!.sizeBytes)).equals(driver.model.diskBytes(vm, 'disk0', 3)));
    await view.finish(true);
    assert.ok(!atSnapshot.equals(driver.model.diskBytes(vm, 'disk0', 3)));
    await assert.rejects(driver.snapshots.remove(vm, 'nope'), NotFoundError);
  });

  describe('through the backup path (memory store)', () => {
    let dir: string;
    const clock = new ManualClock();
    const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
    const driver = new SimDriver(config({ diskSizeBytes: 64 * CHUNK, changeFraction: 0.05, disksPerVm: 2 }), clock);
    const vm = 'sim-vm-00002';
    let seq = 0;
    const deps = { driver, store, log, clock, keys: null, openProcessor: () => new InlineChunkProcessor(null), progress: () => undefined };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bulwark-sim-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const backupAndRestore = async (generation: number) => {
      clock.advance(1000);
      driver.bytesRead = 0;
      const result = await runBackup({ jobId: `job-${++seq}`, attempt: 1, vm, mode: 'auto' }, deps);
      const bytesRead = driver.bytesRead;
      const target = join(dir, result.backup.backupId);
      await runRestore({ backupId: result.backup.backupId, vm, targetDir: target }, { store, log, clock, keys: null, openProcessor: () => new InlineChunkProcessor(null), progress: () => undefined });
      for (const disk of ['disk0', 'disk1']) {
        assert.ok((await readFile(join(target, `${disk}.img`))).equals(driver.model.diskBytes(vm, disk, generation)), `${disk} restored byte for byte at generation ${generation}`);
      }
      return { result, bytesRead, manifest: decodeManifest(await store.getManifest(result.backup.backupId)) };
    };

    it('a full, then incrementals that read only the changed blocks, each restored byte for byte', async () => {
      const full = await backupAndRestore(0);
      assert.equal(full.manifest.mode, 'full');
      assert.equal(full.bytesRead, 2 * 64 * CHUNK);
      const inc = await backupAndRestore(1);
      assert.equal(inc.manifest.mode, 'incremental');
      assert.equal(inc.manifest.changeTracking, 'dirty-bitmap');
      // 5% of 64 blocks rounds to 3 per disk.
      assert.equal(inc.bytesRead, 2 * 3 * CHUNK, 'only the changed blocks are read');
      assert.equal(driver.generationOfCheckpoint(inc.manifest.checkpoint ?? null), 1);
    });

    it('a failed view keeps its changes for the next one', async () => {
      const view = await driver.openBackupView(vm);
      await view.finish(false);
      const next = await backupAndRestore(3);
      assert.equal(next.manifest.changeTracking, 'dirty-bitmap');
      const expected = new Set([...driver.model.changedBlocks(vm, 'disk0', 2), ...driver.model.changedBlocks(vm, 'disk0', 3)]).size;
      const expected1 = new Set([...driver.model.changedBlocks(vm, 'disk1', 2), ...driver.model.changedBlocks(vm, 'disk1', 3)]).size;
      assert.equal(next.bytesRead, (expected + expected1) * CHUNK, 'the changes of generations 2 and 3');
    });
  });
});
