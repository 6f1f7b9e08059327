import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CorruptDataError } from '../errors.js';
import { ZERO_DIGEST } from './chunk-digest.js';
import { chunkCountFor, decodeFixedIndex, digestAt, encodeFixedIndex, FIDX_HEADER_BYTES } from './fixed-index.js';

describe('fixed index format', () => {
  const chunk = 1024 * 1024;
  const diskSize = 5 * chunk + 123;
  const count = chunkCountFor(diskSize, chunk);
  const digests = Buffer.concat([randomBytes(32 * 3), ZERO_DIGEST, randomBytes(32 * (count - 4))]);

  it('round-trips, with a short last chunk', () => {
    assert.equal(count, 6);
    const file = encodeFixedIndex(chunk, diskSize, digests);
    assert.equal(file.length, FIDX_HEADER_BYTES + 32 * count);
    const index = decodeFixedIndex(file);
    assert.equal(index.diskSizeBytes, diskSize);
    assert.equal(index.chunkSizeBytes, chunk);
    assert.equal(index.chunkCount, count);
    assert.deepEqual(digestAt(index, 3), ZERO_DIGEST);
    assert.deepEqual(digestAt(index, 5), digests.subarray(160, 192));
    assert.throws(() => digestAt(index, 6), RangeError);
  });

  it('detects damage to header and body, and truncation', () => {
    const file = encodeFixedIndex(chunk, diskSize, digests);
    for (const pos of [0, 12, 20, 40, 70, FIDX_HEADER_BYTES + 5, file.length - 1]) {
      const bad = Buffer.from(file);
      bad[pos] = (bad[pos] ?? 0) ^ 1;
      assert.throws(() => decodeFixedIndex(bad), CorruptDataError, `flip at ${pos}`);
    }
    assert.throws(() => decodeFixedIndex(file.subarray(0, file.length - 32)), /body/);
    assert.throws(() => decodeFixedIndex(file.subarray(0, 50)), /truncated/);
  });

  it('refuses a body that does not fit the disk', () => {
    assert.throws(() => encodeFixedIndex(chunk, diskSize, digests.subarray(32)), RangeError);
  });
});
