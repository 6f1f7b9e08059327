import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { runBackup } from '../backup/backup-job.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import { rawFileTargets } from '../restore/raw-file-target.js';
import { runRestore } from '../restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { InlineChunkProcessor } from './inline-chunk-processor.js';
import { MemoryBlockStore } from './memory-block-store.js';
import { qcow2Targets } from './qcow2-nbd-target.js';

const run = promisify(execFile);
const CHUNK = 256 * 1024;
const MiB = 1024 * 1024;
const log = silentLogger();

describe('restore into qcow2 (qemu-img, qemu-nbd)', () => {
  let dir: string;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
  const deps = { store, log, clock, keys: null, openProcessor: () => new InlineChunkProcessor(null), progress: () => undefined };
  let source: string;
  let backupId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-qcow2-'));
    source = join(dir, 'disk.raw');
    // 64 MiB + a short tail: data at the start, a partly used chunk, a lone 4 KiB block at the end.
    await writeDiskImage(source, 64 * MiB + 12_345, [
      { offset: 0, data: seededBytes(1, 3 * MiB) },
      { offset: 20 * MiB + 8192, data: seededBytes(2, 5000) },
      { offset: 64 * MiB, data: seededBytes(3, 12_345) },
    ]);
    const driver = new FilesDriver({ kind: 'files', vms: [{ name: 'vm', disks: [{ name: 'd0', path: source }] }] }, log);
    const result = await runBackup({ jobId: 'j1', attempt: 1, vm: 'vm', mode: 'full' }, { ...deps, driver });
    backupId = result.backup.backupId;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a sparse qcow2 image that QEMU reads as the backed-up disk', async () => {
    const target = join(dir, 'out');
    const result = await runRestore({ backupId, vm: 'vm', targetDir: target, format: 'qcow2' }, { ...deps, diskTargets: qcow2Targets(rawFileTargets) });
    const image = join(target, 'd0.qcow2');
    assert.deepEqual(result.disks.map((d) => d.path), [image]);
    assert.ok(!existsSync(`${image}.partial`), 'the partial file was renamed');
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', image])).stdout) as { format: string; 'virtual-size': number; 'actual-size': number };
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], 64 * MiB + 12_345 + (512 - ((64 * MiB + 12_345) % 512)), 'qcow2 rounds the size up to whole sectors');
    assert.ok(info['actual-size'] < 8 * MiB, `zeros stay unallocated (${info['actual-size']} bytes on disk)`);
    // qemu-img compare exits 0 only when the guest-visible contents are identical (the tail past
    // the raw size reads as zeros in both).
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', source, image]);
  });

  it('refuses qcow2 where only raw images can be written, and leaves nothing behind', async () => {
    const target = join(dir, 'out-raw-only');
    await assert.rejects(runRestore({ backupId, vm: 'vm', targetDir: target, format: 'qcow2' }, deps), /cannot write qcow2/);
    assert.ok(!existsSync(join(target, 'd0.qcow2.partial')));
  });
});
