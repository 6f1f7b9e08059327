import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { NotFoundError, UnavailableError } from '../../shared/errors.js';
import { chunkDigest, digestHex, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import type { BackupResult } from '../../shared/messages/results.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { WorkerChunkProcessor } from '../adapters/worker-chunk-processor.js';
import type { FilesHypervisorConfig } from '../config.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import type { BackupView, HypervisorDriver } from '../hypervisors/hypervisor.js';
import { runRestore } from '../restore/restore-job.js';
import { patchDiskImage, seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { defaultBackupTuning, runBackup, type BackupJobInput, type BackupTuning } from './backup-job.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

/** A driver that records how each backup view ended. */
class RecordingDriver implements HypervisorDriver {
  readonly kind = 'files';
  readonly finished: boolean[] = [];
  constructor(private readonly inner: HypervisorDriver) {}
  inventory() {
    return this.inner.inventory();
  }
  async openBackupView(vm: string): Promise<BackupView> {
    const view = await this.inner.openBackupView(vm);
    return {
      ...view,
      finish: async (success) => {
        this.finished.push(success);
        await view.finish(success);
      },
    };
  }
}

describe('backup job (files driver, in-memory store)', () => {
  let dir: string;
  let rootPath: string;
  let dataPath: string;
  let driver: RecordingDriver;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a', CHUNK);
  const shared = seededBytes(99, CHUNK);
  const rootSize = 64 * CHUNK + 1000;
  const dataSize = 256 * CHUNK;
  let jobSeq = 0;
  let restoreSeq = 0;

  const backup = async (mode: BackupJobInput['mode'] = 'auto', over: Partial<BackupJobInput> = {}, tuning?: BackupTuning) => {
    const progress: [string, number, number][] = [];
    clock.advance(1000);
    const result = await runBackup(
      { jobId: `job-${++jobSeq}`, attempt: 1, vm: 'vm1', mode, ...over },
      { driver, store, log, clock, keys: null, openProcessor: (k, o) => new WorkerChunkProcessor(k, { ...o, threads: 2 }), progress: (p, d, t) => progress.push([p, d, t]) },
      tuning,
    );
    return { result, progress };
  };

  const restoreAndCompare = async (result: BackupResult, expected: Record<string, Buffer>) => {
    const target = join(dir, `restore-${++restoreSeq}-${result.backup.backupId}`);
    const restored = await runRestore(
      { backupId: result.backup.backupId, vm: 'vm1', targetDir: target },
      { store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined },
    );
    for (const [name, bytes] of Object.entries(expected)) {
      assert.ok((await readFile(join(target, `${name}.img`))).equals(bytes), `disk ${name} restored byte for byte`);
    }
    return restored;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-backup-'));
    rootPath = join(dir, 'root.raw');
    dataPath = join(dir, 'data.raw');
    // root: random head, a zero stretch, the same block four times, random tail with a short last chunk.
    await writeDiskImage(rootPath, rootSize, [
      { offset: 0, data: seededBytes(1, 10 * CHUNK) },
      ...[30, 31, 32, 33].map((i) => ({ offset: i * CHUNK, data: shared })),
      { offset: 40 * CHUNK, data: seededBytes(2, 24 * CHUNK + 1000) },
    ]);
    // data: mostly zeros; one random chunk and one copy of the block root has too.
    await writeDiskImage(dataPath, dataSize, [
      { offset: 5 * CHUNK, data: seededBytes(3, CHUNK) },
      { offset: 200 * CHUNK, data: shared },
    ]);
    const config: FilesHypervisorConfig = {
      kind: 'files',
      vms: [
        {
          name: 'vm1',
          disks: [
            { name: 'root', path: rootPath },
            { name: 'data', path: dataPath },
          ],
        },
      ],
    };
    driver = new RecordingDriver(new FilesDriver(config, log));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let full: BackupResult;
  let fullBytes: Record<string, Buffer>;

  it('makes a full backup: zero chunks never sent, each distinct chunk sent once', async () => {
    fullBytes = { root: await readFile(rootPath), data: await readFile(dataPath) };
    const { result, progress } = await backup('auto');
    full = result;
    const rootChunks = 65;
    const dataChunks = 256;
    const rootZero = 65 - 10 - 4 - 25;
    assert.equal(result.alreadyCommitted, false);
    assert.equal(result.backup.mode, 'full');
    assert.equal(result.backup.parentBackupId, null);
    assert.equal(result.backup.site, 'site-a');
    assert.equal(result.backup.sizeBytes, rootSize + dataSize);
    assert.deepEqual(result.backup.disks, [
      { name: 'root', sizeBytes: rootSize },
      { name: 'data', sizeBytes: dataSize },
    ]);
    assert.equal(result.bytesRead, rootSize + dataSize);
    assert.equal(result.chunksTotal, rootChunks + dataChunks);
    assert.equal(result.chunksZero, rootZero + dataChunks - 2);
    // 10 + 25 distinct in root, the shared block once, plus data's random chunk.
    assert.equal(result.chunksSent, 10 + 25 + 1 + 1);
    assert.equal(new Set(store.received).size, store.received.length, 'no digest sent twice');
    assert.ok(!store.received.includes(digestHex(ZERO_DIGEST)), 'no zero chunk sent');
    assert.equal(store.received.filter((d) => d === digestHex(chunkDigest(shared))).length, 1);
    assert.ok(result.bytesSent > 0);
    const last = progress.at(-1);
    assert.ok(last && last[1] === last[2] && last[2] === rootSize + dataSize);
    assert.deepEqual(driver.finished.at(-1), true);

    const restored = await restoreAndCompare(result, fullBytes);
    assert.equal(restored.chunksFetched, 10 + 25 + 1 + 1 + 1, 'shared block fetched once per disk');
    const dataImg = join(restored.targetDir, 'data.img');
    const st = await stat(dataImg);
    assert.equal(st.size, dataSize);
    assert.ok(st.blocks * 512 < dataSize / 8, `restored data disk is sparse (${st.blocks * 512} of ${dataSize} bytes allocated)`);
  });

  it('makes an incremental that sends only the changed chunks', async () => {
    await patchDiskImage(rootPath, [
      { offset: 3 * CHUNK + 17, data: Buffer.from('changed in a random chunk') },
      { offset: 20 * CHUNK, data: seededBytes(7, 100) }, // in the zero stretch
      { offset: 64 * CHUNK + 10, data: Buffer.from('tail') }, // the short last chunk
    ]);
    await patchDiskImage(dataPath, [{ offset: 100 * CHUNK, data: seededBytes(8, 3 * CHUNK) }]);
    const sentBefore = store.received.length;
    const { result } = await backup('auto');
    assert.equal(result.backup.mode, 'incremental');
    assert.equal(result.backup.parentBackupId, full.backup.backupId);
    assert.equal(result.chunksSent, 3 + 3);
    assert.equal(store.received.length - sentBefore, 6);
    assert.equal(result.bytesRead, rootSize + dataSize);
    await restoreAndCompare(result, { root: await readFile(rootPath), data: await readFile(dataPath) });
    // The full backup is untouched by the incremental: still restores the original bytes.
    await restoreAndCompare(full, fullBytes);
  });

  it('re-sends a chunk the store lost, and a full backup sends nothing else', async () => {
    const lost = digestHex(chunkDigest(seededBytes(3, CHUNK)));
    assert.ok(store.blobs.delete(lost));
    const { result } = await backup('full');
    assert.equal(result.backup.mode, 'full');
    assert.equal(result.backup.parentBackupId, null);
    assert.equal(result.chunksSent, 1);
    assert.equal(store.received.at(-1), lost);
    await restoreAndCompare(result, { root: await readFile(rootPath), data: await readFile(dataPath) });
  });

  it('reports the committed backup of a redelivered attempt without reading the disks', async () => {
    const { result: first } = await backup('auto', { jobId: 'job-redelivered', attempt: 3 });
    const calls = { ...Object.fromEntries(store.calls) };
    const { result: again } = await backup('auto', { jobId: 'job-redelivered', attempt: 3 });
    assert.equal(again.alreadyCommitted, true);
    assert.deepEqual(again.backup, first.backup);
    assert.equal(again.bytesRead, 0);
    assert.equal(again.chunksSent, 0);
    assert.equal(store.calls.get('findMissing'), calls.findMissing);
    assert.equal(store.calls.get('commitBackup'), calls.commitBackup);
    assert.equal(store.manifests.size, 4);
    assert.equal(driver.finished.at(-1), false, 'a view not used for a commit keeps its changes');
    await restoreAndCompare(again, { root: await readFile(rootPath), data: await readFile(dataPath) });
  });

  it('aborts the session and rethrows when a step fails; the next attempt completes', async () => {
    await patchDiskImage(rootPath, [{ offset: 50 * CHUNK, data: seededBytes(11, CHUNK) }]);
    store.failNext('commitBackup', new UnavailableError('storage went away'));
    const aborts = store.calls.get('abortBackup') ?? 0;
    await assert.rejects(backup('auto', { jobId: 'job-flaky', attempt: 1 }), UnavailableError);
    assert.equal(store.calls.get('abortBackup'), aborts + 1);
    assert.equal(store.sessions.size, 0);
    assert.equal(driver.finished.at(-1), false);
    // The chunk reached the store before the commit failed, so attempt 2 sends nothing.
    const { result } = await backup('auto', { jobId: 'job-flaky', attempt: 2 });
    assert.equal(result.alreadyCommitted, false);
    assert.equal(result.chunksSent, 0);
    await restoreAndCompare(result, { root: await readFile(rootPath), data: await readFile(dataPath) });
  });

  it('aborts when the chunk stream fails', async () => {
    await patchDiskImage(rootPath, [{ offset: 51 * CHUNK, data: seededBytes(12, CHUNK) }]);
    store.failNext('putChunks', new UnavailableError('stream reset'));
    const aborts = store.calls.get('abortBackup') ?? 0;
    await assert.rejects(backup('auto'), /stream reset/);
    assert.equal(store.calls.get('abortBackup'), aborts + 1);
    const { result } = await backup('auto');
    assert.equal(result.chunksSent, 1);
    await restoreAndCompare(result, { root: await readFile(rootPath), data: await readFile(dataPath) });
  });

  it('keeps FindMissing batches within the count and memory bounds', async () => {
    await patchDiskImage(rootPath, [{ offset: 0, data: seededBytes(13, 40 * CHUNK) }]);
    const sizes: number[] = [];
    const sessions = new Set<string | undefined>();
    const original = store.findMissing.bind(store);
    store.findMissing = (digests: readonly Buffer[], sessionId?: string) => {
      sizes.push(digests.length);
      sessions.add(sessionId);
      return original(digests);
    };
    try {
      const { result } = await backup('auto', {}, { ...defaultBackupTuning, findMissingBatch: 8 });
      assert.ok(Math.max(...sizes) <= 8, `batches of at most 8 (saw ${Math.max(...sizes)})`);
      // Every call names the session, so storage holds the present chunks against GC until commit.
      assert.equal(sessions.size, 1);
      assert.equal(typeof [...sessions][0], 'string');
      assert.equal(result.chunksSent, 40);
      sizes.length = 0;
      await patchDiskImage(rootPath, [{ offset: 0, data: seededBytes(14, 40 * CHUNK) }]);
      const { result: next } = await backup('auto', {}, { ...defaultBackupTuning, maxInFlightBytes: 8 * CHUNK });
      // A batch closes once it holds a quarter of the budget: two chunks, or two and the short tail.
      assert.ok(Math.max(...sizes) <= 3, `batches of at most a quarter of the budget (saw ${Math.max(...sizes)})`);
      const stats = decodeManifest(store.manifests.get(next.backup.backupId)!).stats;
      assert.ok(Number(stats.peakInFlightBytes) <= 8 * CHUNK, `at most 8 chunks in flight (held ${stats.peakInFlightBytes} bytes)`);
      await restoreAndCompare(next, { root: await readFile(rootPath), data: await readFile(dataPath) });
    } finally {
      store.findMissing = original;
    }
  });

  it('fails with NotFoundError for an unknown VM, before opening a session', async () => {
    const begins = store.calls.get('beginBackup');
    await assert.rejects(backup('auto', { vm: 'nope' }), NotFoundError);
    assert.equal(store.calls.get('beginBackup'), begins);
  });
});
