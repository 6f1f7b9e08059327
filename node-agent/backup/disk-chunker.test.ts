import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDigest, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import type { BackupDisk } from '../hypervisors/hypervisor.js';
import { seededBytes } from '../testing/disk-images.js';
import { chunkLengthAt, describeChunk, readChunks } from './disk-chunker.js';

function bufferDisk(data: Buffer, failAt?: number): BackupDisk & { reads: { offset: number; length: number }[] } {
  const reads: { offset: number; length: number }[] = [];
  return {
    name: 'd0',
    sizeBytes: data.length,
    changeTracking: 'hash',
    reads,
    read(offset, length) {
      reads.push({ offset, length });
      if (failAt !== undefined && offset >= failAt) return Promise.reject(new Error('read failed'));
      return Promise.resolve(Buffer.from(data.subarray(offset, offset + length)));
    },
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('disk chunker', () => {
  it('cuts aligned chunks, the last one short, and marks zero chunks with ZERO_DIGEST', async () => {
    const chunk = 4096;
    const data = Buffer.alloc(3 * chunk + 100);
    seededBytes(1, chunk).copy(data, 0);
    // chunk 1 stays zero; chunk 2 has a single non-zero byte at its end; the short tail is random.
    data[3 * chunk - 1] = 7;
    seededBytes(2, 100).copy(data, 3 * chunk);
    const disk = bufferDisk(data);
    const chunks = await collect(readChunks(disk, chunk));
    assert.deepEqual(
      chunks.map((c) => [c.index, c.offset, c.data.length, c.zero]),
      [
        [0, 0, chunk, false],
        [1, chunk, chunk, true],
        [2, 2 * chunk, chunk, false],
        [3, 3 * chunk, 100, false],
      ],
    );
    assert.deepEqual(chunks[1]!.digest, ZERO_DIGEST);
    for (const c of chunks.filter((x) => !x.zero)) assert.deepEqual(c.digest, chunkDigest(c.data));
    assert.deepEqual(disk.reads.map((r) => r.offset), [0, chunk, 2 * chunk, 3 * chunk]);
  });

  it('gives nothing for an empty disk and exact chunks for an aligned one', async () => {
    assert.equal((await collect(readChunks(bufferDisk(Buffer.alloc(0)), 4096))).length, 0);
    const aligned = await collect(readChunks(bufferDisk(seededBytes(3, 8192)), 4096));
    assert.deepEqual(aligned.map((c) => c.data.length), [4096, 4096]);
  });

  it('chunkLengthAt and describeChunk agree with the chunker', () => {
    assert.equal(chunkLengthAt(10_000, 4096, 0), 4096);
    assert.equal(chunkLengthAt(10_000, 4096, 2), 10_000 - 8192);
    assert.deepEqual(describeChunk(Buffer.alloc(5000)), { digest: ZERO_DIGEST, zero: true });
    const data = seededBytes(4, 5000);
    assert.deepEqual(describeChunk(data), { digest: chunkDigest(data), zero: false });
  });

  it('surfaces a failed read, including one read ahead', async () => {
    const disk = bufferDisk(seededBytes(5, 4 * 4096), 2 * 4096);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const c of readChunks(disk, 4096)) seen.push(c.index);
    }, /read failed/);
    assert.deepEqual(seen, [0, 1]);
  });

  it('settles the read ahead when the caller stops early', async () => {
    const disk = bufferDisk(seededBytes(6, 4 * 4096), 4096);
    for await (const c of readChunks(disk, 4096)) {
      assert.equal(c.index, 0);
      break;
    }
    assert.equal(disk.reads.length, 2);
  });
});
