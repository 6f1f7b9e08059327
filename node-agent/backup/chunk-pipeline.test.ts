import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { generateKeyMaterial, keysFromMaterial, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { DIGEST_BYTES, digestHex, isZeroChunk, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import { ManualClock } from '../../shared/clock.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { ChunkWorkerError, WorkerChunkProcessor } from '../adapters/worker-chunk-processor.js';
import type { BackupDisk } from '../hypervisors/hypervisor.js';
import type { ChunkProcessor } from '../ports/chunk-processor.js';
import { bufferDisk, generatedDisk } from '../testing/buffer-disk.js';
import { seededBytes } from '../testing/disk-images.js';
import { readEverything } from './read-plan.js';
import { ChunkPipeline, defaultPipelineTuning, type PipelineTuning } from './chunk-pipeline.js';

const CHUNK = 64 * 1024;
let sessions = 0;

/** Two disks with random chunks, zero chunks, a chunk repeated within and across disks, a short tail. */
function sampleDisks(): BackupDisk[] {
  const repeated = seededBytes(50, CHUNK);
  const a = Buffer.alloc(40 * CHUNK + 777);
  seededBytes(51, 12 * CHUNK).copy(a, 0);
  for (const i of [20, 21, 30]) repeated.copy(a, i * CHUNK);
  a[25 * CHUNK + 5] = 1; // one byte makes a chunk non-zero
  seededBytes(52, 777).copy(a, 40 * CHUNK);
  const b = Buffer.alloc(16 * CHUNK);
  repeated.copy(b, 3 * CHUNK);
  seededBytes(53, 2 * CHUNK).copy(b, 9 * CHUNK);
  return [bufferDisk('a', a), bufferDisk('b', b)];
}

/** The simple path: every chunk read, checked and digested one after another on this thread. */
async function simpleIndex(disk: BackupDisk, codec: ChunkCodec): Promise<{ index: Buffer; chunks: Map<string, Buffer> }> {
  const count = Math.ceil(disk.sizeBytes / CHUNK);
  const index = Buffer.alloc(count * DIGEST_BYTES);
  const chunks = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const data = await disk.read(i * CHUNK, Math.min(CHUNK, disk.sizeBytes - i * CHUNK));
    if (isZeroChunk(data)) continue;
    const digest = codec.digest(data);
    digest.copy(index, i * DIGEST_BYTES);
    chunks.set(digestHex(digest), data);
  }
  return { index, chunks };
}

async function session(store: MemoryBlockStore, disks: readonly BackupDisk[]): Promise<string> {
  const begin = await store.beginBackup({
    vm: 'vm',
    disks: disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
    jobId: `job-${++sessions}`,
    attempt: 1,
    parentBackupId: null,
    mode: 'full',
    changeTracking: 'hash',
    changeTrackingNote: null,
  });
  return begin.sessionId;
}

async function runPipeline(
  store: MemoryBlockStore,
  processor: ChunkProcessor,
  disks: readonly BackupDisk[],
  tuning: PipelineTuning = defaultPipelineTuning,
): Promise<{ pipeline: ChunkPipeline; indexes: Map<string, Buffer> }> {
  const pipeline = new ChunkPipeline(store, await session(store, disks), processor, CHUNK, tuning);
  try {
    const { indexes } = await pipeline.run(disks.map(readEverything), () => undefined);
    return { pipeline, indexes };
  } finally {
    await processor.close();
  }
}

describe('chunk pipeline', () => {
  for (const encrypted of [false, true]) {
    it(`makes the same index and blobs as the simple path (${encrypted ? 'encrypted' : 'plain'}, worker threads)`, async () => {
      const keys: DatastoreKeys | null = encrypted ? keysFromMaterial(generateKeyMaterial()) : null;
      const codec = new ChunkCodec(keys);
      const store = new MemoryBlockStore(new ManualClock(), 'site', CHUNK, keys?.fingerprint ?? null);
      const disks = sampleDisks();
      const small: PipelineTuning = { maxInFlightBytes: 8 * CHUNK, findMissingBatch: 3, findMissingInFlight: 2, readAhead: 3 };
      const { pipeline, indexes } = await runPipeline(store, new WorkerChunkProcessor(keys, { threads: 2, chunkSizeBytes: CHUNK }), disks, small);

      const expected = new Map<string, Buffer>();
      for (const disk of disks) {
        const simple = await simpleIndex(disk, codec);
        assert.ok(indexes.get(disk.name)?.equals(simple.index), `index of disk ${disk.name}`);
        for (const [hex, data] of simple.chunks) expected.set(hex, data);
      }
      assert.deepEqual([...store.blobs.keys()].sort(), [...expected.keys()].sort(), 'exactly the distinct non-zero chunks are stored');
      assert.equal(store.received.length, expected.size, 'each digest sent once');
      for (const [hex, data] of expected) {
        const blob = store.blobs.get(hex)!;
        if (!encrypted) assert.ok(blob.equals(codec.encode(data, Buffer.from(hex, 'hex'))), 'a plain blob is byte for byte the simple encoding');
        assert.ok(codec.decode(blob, Buffer.from(hex, 'hex')).equals(data));
      }
      assert.equal(pipeline.chunksTotal, 41 + 16);
      assert.equal(pipeline.chunksZero, 41 - 12 - 3 - 1 - 1 + 16 - 3);
      assert.equal(pipeline.chunksSent, expected.size);
      assert.equal(pipeline.bytesRead, disks[0]!.sizeBytes + disks[1]!.sizeBytes);
      assert.ok(pipeline.peakInFlightBytes <= 8 * CHUNK);
    });
  }

  it('sends nothing the store already has, and nothing twice', async () => {
    const store = new MemoryBlockStore(new ManualClock(), 'site', CHUNK);
    const disks = sampleDisks();
    await runPipeline(store, new InlineChunkProcessor(null), disks);
    const sent = store.received.length;
    const { pipeline, indexes } = await runPipeline(store, new InlineChunkProcessor(null), disks);
    assert.equal(pipeline.chunksSent, 0);
    assert.equal(store.received.length, sent);
    assert.equal(indexes.get('b')!.subarray(0, DIGEST_BYTES).equals(ZERO_DIGEST), true);
  });

  it('holds at most its budget of chunk bytes, whatever the disk size, against a slow stream', async () => {
    const store = new MemoryBlockStore(new ManualClock(), 'site', CHUNK);
    const writes = { inFlight: 0, most: 0 };
    const putChunks = store.putChunks.bind(store);
    // Storage that takes a while per blob, and the stream's buffer full now and then.
    store.putChunks = (sessionId) => {
      const inner = putChunks(sessionId);
      return {
        write: async (digest, blob) => {
          writes.inFlight++;
          writes.most = Math.max(writes.most, writes.inFlight);
          await nextTurn();
          await nextTurn();
          writes.inFlight--;
          await inner.write(digest, blob);
        },
        close: () => inner.close(),
        abort: () => inner.abort(),
      };
    };
    // 2,048 distinct chunks (128 MiB) through a budget of 16 chunks.
    const disk = generatedDisk('big', 2048 * CHUNK, CHUNK);
    const tuning: PipelineTuning = { maxInFlightBytes: 16 * CHUNK, findMissingBatch: 64, findMissingInFlight: 2, readAhead: 4 };
    const processor = new WorkerChunkProcessor(null, { threads: 2, chunkSizeBytes: CHUNK });
    const { pipeline } = await runPipeline(store, processor, [disk], tuning);
    assert.equal(pipeline.chunksSent, 2048);
    assert.ok(pipeline.peakInFlightBytes <= 16 * CHUNK, `held ${pipeline.peakInFlightBytes} bytes`);
    assert.ok(pipeline.peakInFlightBytes >= 4 * CHUNK, 'several chunks were in flight');
    assert.ok(processor.slotCount <= 16, `chunk memory stays within the budget (${processor.slotCount} slots for 2,048 chunks)`);
    assert.equal(writes.most, 1, 'writes go one after another on the single stream');
  });

  it('fails, aborts the stream and leaves nothing running when a read fails', async () => {
    const store = new MemoryBlockStore(new ManualClock(), 'site', CHUNK);
    const disk = bufferDisk('d', seededBytes(60, 64 * CHUNK), 40 * CHUNK);
    let aborted = 0;
    const putChunks = store.putChunks.bind(store);
    store.putChunks = (sessionId) => {
      const inner = putChunks(sessionId);
      return { write: (d, b) => inner.write(d, b), close: () => inner.close(), abort: () => void aborted++ };
    };
    const processor = new WorkerChunkProcessor(null, { threads: 2, chunkSizeBytes: CHUNK });
    const tuning: PipelineTuning = { ...defaultPipelineTuning, maxInFlightBytes: 8 * CHUNK };
    const pipeline = new ChunkPipeline(store, await session(store, [disk]), processor, CHUNK, tuning);
    try {
      await assert.rejects(pipeline.run([readEverything(disk)], () => undefined), /read failed/);
    } finally {
      await processor.close();
    }
    assert.ok(aborted >= 1, 'the stream was cancelled');
    const reads = disk.reads;
    await nextTurn();
    assert.equal(disk.reads, reads, 'no read after the failure settled');
  });

  it('fails cleanly when a worker thread dies', async () => {
    const store = new MemoryBlockStore(new ManualClock(), 'site', CHUNK);
    const processor = new WorkerChunkProcessor(null, { threads: 2, chunkSizeBytes: CHUNK, workerUrl: new URL('../testing/crashing-chunk-worker.ts', import.meta.url) });
    const disks = sampleDisks();
    const pipeline = new ChunkPipeline(store, await session(store, disks), processor, CHUNK);
    try {
      await assert.rejects(pipeline.run(disks.map(readEverything), () => undefined), ChunkWorkerError);
    } finally {
      await processor.close();
    }
    assert.equal(processor.liveThreads, 0);
    assert.equal(store.received.length, 0);
  });
});
