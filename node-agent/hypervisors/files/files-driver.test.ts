import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFoundError, PreconditionError } from '../../../shared/errors.js';
import { silentLogger } from '../../../shared/log.js';
import { seededBytes, writeDiskImage } from '../../testing/disk-images.js';
import { FilesDriver } from './files-driver.js';

describe('files hypervisor driver', () => {
  let dir: string;
  let driver: FilesDriver;
  const content = seededBytes(42, 300_000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-files-driver-'));
    await writeDiskImage(join(dir, 'a-root.raw'), 1 << 20, [{ offset: 100_000, data: content }]);
    await writeDiskImage(join(dir, 'a-data.raw'), 12_345, []);
    driver = new FilesDriver(
      {
        kind: 'files',
        vms: [
          {
            name: 'a',
            disks: [
              { name: 'root', path: join(dir, 'a-root.raw') },
              { name: 'data', path: join(dir, 'a-data.raw') },
            ],
          },
          { name: 'b', disks: [{ name: 'root', path: join(dir, 'missing.raw') }] },
          { name: 'c', disks: [{ name: 'root', path: dir }] },
        ],
      },
      silentLogger(),
    );
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the VMs with their disk sizes (0 for a missing image or a non-file)', async () => {
    assert.deepEqual(await driver.inventory(), [
      { name: 'a', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 1 << 20 }, { name: 'data', sizeBytes: 12_345 }] },
      { name: 'b', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 0 }] },
      { name: 'c', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 0 }] },
    ]);
  });

  it('reads exact ranges through a backup view', async () => {
    const view = await driver.openBackupView('a');
    try {
      assert.deepEqual(view.disks.map((d) => [d.name, d.sizeBytes, d.changeTracking]), [
        ['root', 1 << 20, 'hash'],
        ['data', 12_345, 'hash'],
      ]);
      const root = view.disks[0]!;
      assert.ok((await root.read(100_000, content.length)).equals(content));
      assert.ok((await root.read(0, 100)).equals(Buffer.alloc(100)));
      assert.ok((await root.read(99_990, 20)).equals(Buffer.concat([Buffer.alloc(10), content.subarray(0, 10)])));
      await assert.rejects(root.read((1 << 20) - 10, 11), RangeError);
    } finally {
      await view.finish(true);
    }
  });

  it('names the VM and the path of a missing image, and an unknown VM', async () => {
    await assert.rejects(driver.openBackupView('b'), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.match(err.message, /VM b/);
      assert.ok(err.message.includes(join(dir, 'missing.raw')));
      return true;
    });
    await assert.rejects(driver.openBackupView('zzz'), (err: unknown) => err instanceof NotFoundError && /VM zzz/.test(err.message));
    await assert.rejects(driver.openBackupView('c'), PreconditionError);
  });

  it('fails a read past the end of an image that shrank', async () => {
    const view = await driver.openBackupView('a');
    try {
      await truncate(join(dir, 'a-data.raw'), 1000);
      await assert.rejects(view.disks[1]!.read(0, 12_345), /shrank/);
    } finally {
      await view.finish(false);
    }
  });
});
