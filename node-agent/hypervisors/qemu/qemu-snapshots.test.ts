import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { silentLogger } from '../../../shared/log.js';
import type { QemuHypervisorConfig } from '../../config.js';
import { QemuStorageDaemon, runQemuIo } from '../../testing/qemu-storage-daemon.js';
import type { SnapshotOutcome } from '../hypervisor.js';
import { QemuVmUnavailableError } from './qemu-driver-errors.js';
import {
  QemuSnapshotExistsError,
  QemuSnapshotForeignBitmapError,
  QemuSnapshotNotFoundError,
  QemuSnapshotUnsupportedError,
  QemuSnapshotVmRunningError,
} from './qemu-snapshot-errors.js';
import { DISKS_FILE, isOwnSnapshot, QemuSnapshots } from './qemu-snapshots.js';
import { QmpClient } from './qmp-client.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const names = (o: SnapshotOutcome) => o.snapshots.map((s) => s.name);

describe('qcow2 internal snapshots of a VM (qemu-storage-daemon, two disks)', () => {
  let dir: string;
  let qsd: QemuStorageDaemon;
  let snapshots: QemuSnapshots;
  const vm = 'vm1';

  /** Runs QMP commands on the daemon on a connection of its own (QEMU serves one client at a time). */
  const qmp = async (fn: (client: QmpClient) => Promise<void>) => {
    const client = await QmpClient.connect(qsd.qmpSocketPath, { timeoutMs: 5000 });
    try {
      await fn(client);
    } finally {
      await client.close();
    }
  };
  /** Checks a pattern through the daemon's writable export (qemu-io exits 1 on a mismatch). */
  const expectPattern = (disk: string, pattern: number, offset: number, length: number) =>
    runQemuIo(qsd.nbdUri(disk), [`read -P 0x${pattern.toString(16)} ${offset} ${length}`]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-snap-'));
    qsd = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'd0', sizeBytes: 64 * MiB }, { nodeName: 'd1', sizeBytes: 64 * MiB }], nbd: true });
    await qsd.writePattern('d0', [{ offset: 0, length: MiB, pattern: 0x11 }]);
    await qsd.writePattern('d1', [{ offset: 0, length: MiB, pattern: 0x22 }]);
    const config: QemuHypervisorConfig = {
      kind: 'qemu',
      workDir: join(dir, 'work'),
      vms: [{ name: vm, qmpSocket: qsd.qmpSocketPath, definition: { cpus: 1, memoryMiB: 64 } }],
    };
    snapshots = new QemuSnapshots(config, silentLogger(), { qmpTimeoutMs: 5000, toolTimeoutMs: 30_000 });
  });

  after(async () => {
    await qsd?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes every disk at one instant: a write after the snapshot is not in it', async () => {
    const made = await snapshots.create(vm, { name: 'before-change' });
    assert.equal(made.created, 'before-change');
    assert.equal(made.vmRunning, true);
    assert.deepEqual(names(made), ['before-change']);
    const [snap] = made.snapshots;
    assert.deepEqual(snap?.disks.map((d) => d.disk), ['d0', 'd1'], 'on both disks');
    assert.equal(snap?.madeByBulwark, false);
    assert.ok(snap?.disks.every((d) => d.vmStateSizeBytes === 0 && /^\d+$/.test(d.id)), 'disk-only, with QEMU ids');
    // The guest writes after the instant; the snapshot must keep the old content (checked after the revert).
    await qsd.writePattern('d0', [{ offset: 0, length: 512 * 1024, pattern: 0x33 }]);
    await qsd.writePattern('d1', [{ offset: 0, length: 512 * 1024, pattern: 0x44 }]);
    const record = JSON.parse(await readFile(join(dir, 'work', vm, DISKS_FILE), 'utf8')) as unknown;
    assert.deepEqual(record, {
      vm,
      disks: [
        { name: 'd0', format: 'qcow2', image: join(dir, 'd0.qcow2') },
        { name: 'd1', format: 'qcow2', image: join(dir, 'd1.qcow2') },
      ],
    });
  });

  it('keeps the N newest of its own snapshots and never a user-named one', async () => {
    const first = await snapshots.create(vm, { keep: 2 });
    const second = await snapshots.create(vm, { keep: 2 });
    const third = await snapshots.create(vm, { keep: 2 });
    for (const o of [first, second, third]) assert.ok(o.created !== null && isOwnSnapshot(o.created), `${o.created} is bulwark-<ULID>`);
    assert.deepEqual(first.removed, []);
    assert.deepEqual(second.removed, []);
    assert.deepEqual(third.removed, [first.created], 'the oldest own snapshot goes');
    assert.deepEqual(names(third), ['before-change', second.created, third.created]);
    assert.deepEqual(names(await snapshots.list(vm)), names(third));
    assert.deepEqual(third.incomplete, []);
  });

  it('a redelivered create finds its own snapshot; a taken or bad name is refused', async () => {
    const id = newId();
    const made = await snapshots.create(vm, { id });
    const again = await snapshots.create(vm, { id });
    assert.equal(again.created, `bulwark-${id}`);
    assert.deepEqual(names(again), names(made), 'no second snapshot');
    await assert.rejects(snapshots.create(vm, { name: 'before-change' }), QemuSnapshotExistsError);
    await assert.rejects(snapshots.create(vm, { name: 'bad name' }), ValidationError);
    await assert.rejects(snapshots.create(vm, { name: '42' }), ValidationError);
    await assert.rejects(snapshots.create(vm, { name: 'bulwark-mine' }), ValidationError);
    await assert.rejects(snapshots.create('nope', {}), NotFoundError);
    const removed = await snapshots.remove(vm, `bulwark-${id}`);
    assert.deepEqual(removed.removed, [`bulwark-${id}`]);
    assert.ok(!names(removed).includes(`bulwark-${id}`));
    await assert.rejects(snapshots.remove(vm, 'no-such'), QemuSnapshotNotFoundError);
  });

  it('reports a name only some disks hold as incomplete, and remove finishes it', async () => {
    await qmp((c) => c.execute('blockdev-snapshot-internal-sync', { device: 'd0', name: 'partial' }).then(() => undefined));
    const listed = await snapshots.list(vm);
    assert.ok(!names(listed).includes('partial'));
    assert.deepEqual(listed.incomplete, [{ name: 'partial', presentOn: ['d0'], missingOn: ['d1'] }]);
    const removed = await snapshots.remove(vm, 'partial');
    assert.deepEqual(removed.incomplete, []);
  });

  it('refuses a raw disk, naming it', async () => {
    const raw = join(dir, 'r0.raw');
    await run('qemu-img', ['create', '-q', '-f', 'raw', raw, String(MiB)]);
    await qmp((c) => c.execute('blockdev-add', { driver: 'raw', 'node-name': 'r0', file: { driver: 'file', filename: raw } }).then(() => undefined));
    try {
      await assert.rejects(snapshots.create(vm, {}), (err: unknown) => err instanceof QemuSnapshotUnsupportedError && err.disk === 'r0' && /r0: a raw image/.test(err.message));
    } finally {
      await qmp((c) => c.execute('blockdev-del', { 'node-name': 'r0' }).then(() => undefined));
    }
  });

  it('refuses to revert while QEMU runs the VM', async () => {
    await assert.rejects(snapshots.revert(vm, 'before-change'), (err: unknown) =>
      err instanceof QemuSnapshotVmRunningError && /stop the VM first \(revert needs QEMU to release the images\)/.test(err.message),
    );
    // Nothing changed: the guest's later write is still there.
    await expectPattern('d0', 0x33, 0, 512 * 1024);
  });

  it('reverts the stopped VM with qemu-img: after a restart every disk reads as at the snapshot', async () => {
    const bitmap = `bulwark-${newId()}`;
    await qmp(async (c) => {
      await c.execute('block-dirty-bitmap-add', { node: 'd0', name: bitmap, persistent: true });
      await c.execute('block-dirty-bitmap-add', { node: 'd1', name: 'someone-elses', persistent: true });
    });
    const images = qsd.disks.map((d) => ({ nodeName: d.nodeName, imagePath: d.imagePath }));
    await qsd.stop();

    const offline = await snapshots.list(vm);
    assert.equal(offline.vmRunning, false);
    assert.ok(names(offline).includes('before-change'), 'listed from the images');
    const own = offline.snapshots.find((o) => o.madeByBulwark)?.name ?? 'none';
    const afterRemove = await snapshots.remove(vm, own);
    assert.equal(afterRemove.vmRunning, false);
    assert.deepEqual(names(afterRemove), names(offline).filter((n) => n !== own), 'removed from the stopped VM with qemu-img');
    await assert.rejects(snapshots.revert(vm, 'no-such'), QemuSnapshotNotFoundError);
    await assert.rejects(snapshots.revert(vm, 'before-change'), (err: unknown) =>
      err instanceof QemuSnapshotForeignBitmapError && err.disk === 'd1' && err.bitmap === 'someone-elses',
    );
    const d1 = images.find((d) => d.nodeName === 'd1')?.imagePath ?? '';
    await run('qemu-img', ['bitmap', '--remove', d1, 'someone-elses']);

    const reverted = await snapshots.revert(vm, 'before-change');
    assert.equal(reverted.reverted, 'before-change');
    assert.ok(names(reverted).includes('before-change'), 'the snapshot stays');
    assert.match(reverted.note ?? '', new RegExp(`${bitmap}.*next backup reads every allocated block`));
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', images[0]?.imagePath ?? ''])).stdout) as {
      'format-specific': { data: { bitmaps?: unknown[] } };
    };
    assert.equal(info['format-specific'].data.bitmaps, undefined, 'our change-tracking bitmap is gone');

    qsd = await QemuStorageDaemon.start({ dir, disks: images, nbd: true });
    await expectPattern('d0', 0x11, 0, MiB);
    await expectPattern('d1', 0x22, 0, MiB);
    const running = await snapshots.list(vm);
    assert.equal(running.vmRunning, true);
    assert.deepEqual(names(running), names(afterRemove));
    await qsd.stop();
    await assert.rejects(snapshots.create(vm, {}), QemuVmUnavailableError, 'create needs the VM running');
  });
});
