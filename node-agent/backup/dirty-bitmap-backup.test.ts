import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import type { BackupResult } from '../../shared/messages/results.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { WorkerChunkProcessor } from '../adapters/worker-chunk-processor.js';
import { runRestore } from '../restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { TrackingDriver } from '../testing/tracking-driver.js';
import { runBackup, type BackupJobInput } from './backup-job.js';

const CHUNK = 64 * 1024;
const SIZE = 512 * CHUNK;
const log = silentLogger();

describe('backup job with change tracking (checkpoints, dirty extents)', () => {
  let dir: string;
  let path: string;
  let driver: TrackingDriver;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
  let seq = 0;

  const backup = async (mode: BackupJobInput['mode'] = 'auto') => {
    clock.advance(1000);
    driver.bytesRead.clear();
    const result = await runBackup(
      { jobId: `job-${++seq}`, attempt: 1, vm: 'vm', mode },
      { driver, store, log, clock, keys: null, openProcessor: (k, o) => new WorkerChunkProcessor(k, { ...o, threads: 2 }), progress: () => undefined },
    );
    const manifest = decodeManifest(await store.getManifest(result.backup.backupId));
    return { result, manifest, bytesRead: driver.bytesRead.get('d0') ?? 0 };
  };

  const restoreAndCompare = async (result: BackupResult) => {
    const target = join(dir, `restore-${result.backup.backupId}`);
    await runRestore(
      { backupId: result.backup.backupId, vm: 'vm', targetDir: target },
      { store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
    );
    assert.ok((await readFile(join(target, 'd0.img'))).equals(await readFile(path)), 'restored byte for byte');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-dirty-'));
    path = join(dir, 'd0.raw');
    await writeDiskImage(path, SIZE, []);
    driver = new TrackingDriver({ kind: 'files', vms: [{ name: 'vm', disks: [{ name: 'd0', path }] }] }, log);
    await driver.write('vm', 'd0', 0, seededBytes(1, 8 * CHUNK));
    await driver.write('vm', 'd0', 300 * CHUNK + 4096, seededBytes(2, 3 * CHUNK));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads only the allocated chunks for the first backup and records its checkpoint', async () => {
    const { result, manifest, bytesRead } = await backup();
    assert.equal(manifest.mode, 'full');
    assert.equal(manifest.changeTracking, 'hash');
    assert.equal(manifest.changeTrackingNote, 'no dirty bitmap yet');
    assert.equal(manifest.checkpoint, 'ckpt-1');
    assert.deepEqual(manifest.consistency, { level: 'crash', note: null }, 'the consistency the view obtained is recorded');
    // 8 chunks at 0, and 300*CHUNK+4096 .. +3 chunks touches chunks 300..303.
    assert.equal(bytesRead, 12 * CHUNK, 'holes are never read');
    await restoreAndCompare(result);
  });

  it('reads only the dirty chunks since the base checkpoint and keeps the others from the parent', async () => {
    await driver.write('vm', 'd0', 2 * CHUNK + 100, Buffer.from('changed'));
    await driver.write('vm', 'd0', 450 * CHUNK, seededBytes(3, CHUNK));
    const { result, manifest, bytesRead } = await backup();
    assert.equal(manifest.mode, 'incremental');
    assert.equal(manifest.changeTracking, 'dirty-bitmap');
    assert.equal(manifest.changeTrackingNote, null);
    assert.equal(manifest.checkpoint, 'ckpt-2');
    assert.equal(bytesRead, 2 * CHUNK, 'the two dirty chunks, nothing else');
    await restoreAndCompare(result);
    // The index is exactly what hashing everything gives.
    const hashed = await backup('full');
    assert.ok(
      decodeFixedIndex(await store.getIndex(result.backup.backupId, 'd0')).digests.equals(decodeFixedIndex(await store.getIndex(hashed.result.backup.backupId, 'd0')).digests),
      'same index as a full read',
    );
    assert.equal(hashed.manifest.changeTrackingNote, 'a full backup was requested');
  });

  it('a chunk written back to zeros becomes a zero chunk', async () => {
    await driver.write('vm', 'd0', 450 * CHUNK, Buffer.alloc(CHUNK));
    const { result, manifest, bytesRead } = await backup();
    assert.equal(manifest.changeTracking, 'dirty-bitmap');
    assert.equal(bytesRead, CHUNK);
    await restoreAndCompare(result);
  });

  it('falls back to reading everything allocated when the bitmap was lost, and says why', async () => {
    await driver.write('vm', 'd0', 100 * CHUNK, seededBytes(4, 100));
    driver.loseBitmapOnce = 'dirty bitmap bulwark-x of disk d0 is inconsistent (QEMU stopped uncleanly)';
    const { result, manifest, bytesRead } = await backup();
    assert.equal(manifest.mode, 'incremental');
    assert.equal(manifest.changeTracking, 'hash');
    assert.match(manifest.changeTrackingNote ?? '', /inconsistent/);
    assert.equal(bytesRead, 14 * CHUNK, 'every allocated chunk, read and hashed');
    await restoreAndCompare(result);
    // And the next one is incremental by bitmap again.
    await driver.write('vm', 'd0', 7 * CHUNK, seededBytes(5, 10));
    const next = await backup();
    assert.equal(next.manifest.changeTracking, 'dirty-bitmap');
    assert.equal(next.bytesRead, CHUNK);
    await restoreAndCompare(next.result);
  });
});
