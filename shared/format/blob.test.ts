import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CorruptDataError } from '../errors.js';
import { BLOB_HEADER_BYTES, checkBlob, decodeBlob, decodeBlobChecked, encodeBlob } from './blob.js';
import { chunkDigest } from './chunk-digest.js';

describe('blob format', () => {
  it('compresses compressible data and round-trips it', () => {
    const plain = Buffer.from('bulwark '.repeat(100_000));
    const blob = encodeBlob(plain);
    const header = checkBlob(blob);
    assert.equal(header.compressed, true);
    assert.ok(blob.length < plain.length / 10);
    assert.deepEqual(decodeBlob(blob), plain);
    assert.deepEqual(decodeBlobChecked(blob, chunkDigest(plain)), plain);
  });

  it('stores incompressible data raw', () => {
    const plain = randomBytes(64 * 1024);
    const blob = encodeBlob(plain);
    assert.equal(checkBlob(blob).compressed, false);
    assert.equal(blob.length, BLOB_HEADER_BYTES + plain.length);
    assert.deepEqual(decodeBlob(blob), plain);
  });

  it('detects a flipped bit anywhere, a truncation and a wrong digest', () => {
    const plain = Buffer.from('some text that compresses, some text that compresses');
    const blob = encodeBlob(plain);
    for (const pos of [0, 5, 9, 13, 20, 29, BLOB_HEADER_BYTES, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[pos] = (bad[pos] ?? 0) ^ 0x10;
      assert.throws(() => checkBlob(bad), CorruptDataError, `flip at ${pos}`);
    }
    assert.throws(() => checkBlob(blob.subarray(0, blob.length - 1)), /length/);
    assert.throws(() => checkBlob(blob.subarray(0, 10)), /truncated/);
    assert.throws(() => decodeBlobChecked(blob, chunkDigest(Buffer.from('other'))), /does not match its digest/);
  });
});
