import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { generateKeyMaterial, keysFromMaterial } from '../../shared/crypto/datastore-keys.js';
import { CorruptDataError } from '../../shared/errors.js';
import { BlobKeyError } from '../../shared/format/blob.js';
import { ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import { seededBytes } from '../testing/disk-images.js';
import { InlineChunkProcessor } from './inline-chunk-processor.js';
import { ChunkWorkerError, WorkerChunkProcessor } from './worker-chunk-processor.js';

const text = Buffer.from('a chunk of text that compresses well\n'.repeat(3000));
const CHUNK = 128 * 1024;

describe('worker chunk processor', () => {
  const keys = keysFromMaterial(generateKeyMaterial());

  it('digests, encodes and decodes as the inline processor does, in its own reused memory', async () => {
    const pool = new WorkerChunkProcessor(keys, { threads: 2, chunkSizeBytes: CHUNK });
    const inline = new InlineChunkProcessor(keys);
    const codec = new ChunkCodec(keys);
    try {
      const zero = await pool.describe(Buffer.alloc(65536));
      assert.deepEqual({ zero: zero.zero, digest: zero.digest, length: zero.data.length }, { zero: true, digest: ZERO_DIGEST, length: 65536 });
      pool.recycle(zero.data);
      for (const data of [text, seededBytes(1, 100_000), Buffer.from('tiny, from the shared pool')]) {
        const own = pool.buffer(data.length);
        data.copy(own);
        const described = await pool.describe(own);
        assert.equal(described.zero, false);
        assert.equal(described.data.buffer, own.buffer, 'a chunk in a slot stays there');
        assert.ok(described.digest.equals((await inline.describe(Buffer.from(data))).digest));
        const blob = await pool.encode(described.data, described.digest);
        assert.equal(blob.buffer, own.buffer, 'the blob is written over its plaintext');
        assert.ok(codec.decode(blob, described.digest).equals(data));
        const copy = Buffer.from(blob);
        pool.recycle(blob);
        const plaintext = await pool.decode(copy, described.digest);
        assert.ok(plaintext.equals(data), 'a blob from elsewhere is copied into a slot and decoded there');
        pool.recycle(plaintext);
      }
      // Many at once, spread over both threads, from buffers that are not the pool's.
      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.describe(seededBytes(100 + i, 4096))));
      many.forEach((d, i) => assert.ok(d.digest.equals(codec.digest(seededBytes(100 + i, 4096)))));
      assert.equal(pool.slotCount, 40, 'each chunk in flight holds a slot (arenas of 8)');
      for (const d of many) pool.recycle(d.data);
      const again = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.describe(seededBytes(200 + i, 4096))));
      assert.equal(pool.slotCount, 40, 'recycled slots are reused: no new memory');
      again.forEach((d) => pool.recycle(d.data));
      assert.throws(() => pool.buffer(CHUNK + 1), RangeError);
    } finally {
      await pool.close();
    }
    assert.equal(pool.liveThreads, 0);
    await assert.rejects(pool.describe(text), /closed/);
  });

  it('hands back decode failures as their own classes', async () => {
    const pool = new WorkerChunkProcessor(keys, { threads: 1, chunkSizeBytes: CHUNK });
    try {
      const codec = new ChunkCodec(keys);
      const digest = codec.digest(text);
      const blob = codec.encode(text, digest);
      const other = new ChunkCodec(keysFromMaterial(generateKeyMaterial()));
      await assert.rejects(pool.decode(other.encode(text, digest), digest), BlobKeyError);
      const bad = Buffer.from(blob);
      bad[60] = (bad[60] ?? 0) ^ 1;
      await assert.rejects(pool.decode(bad, digest), (err: unknown) => err instanceof CorruptDataError && /checksum mismatch/.test(err.message));
      assert.ok((await pool.decode(blob, digest)).equals(text), 'the thread still works after a failed task');
    } finally {
      await pool.close();
    }
  });

  it('fails every pending and later call when a thread dies, and stops the others', async () => {
    const pool = new WorkerChunkProcessor(null, { threads: 2, chunkSizeBytes: CHUNK, workerUrl: new URL('../testing/crashing-chunk-worker.ts', import.meta.url) });
    try {
      const calls = [pool.describe(Buffer.from(text)), pool.describe(Buffer.from(text)), pool.describe(Buffer.from(text))];
      for (const call of calls) await assert.rejects(call, ChunkWorkerError);
      await assert.rejects(pool.encode(Buffer.from(text), ZERO_DIGEST), ChunkWorkerError);
    } finally {
      await pool.close();
    }
    assert.equal(pool.liveThreads, 0);
  });
});
