import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.js';
import { chunkDigest, digestFromHex, digestHex, isZeroChunk, isZeroDigest, ZERO_DIGEST } from './chunk-digest.js';

describe('chunk digests and zero detection', () => {
  it('recognises zero chunks of any size, and a single set byte anywhere', () => {
    for (const size of [1, 4096, 1024 * 1024, 5 * 1024 * 1024 + 7]) {
      const buf = Buffer.alloc(size);
      assert.equal(isZeroChunk(buf), true);
      buf[size - 1] = 1;
      assert.equal(isZeroChunk(buf), false);
      buf[size - 1] = 0;
      buf[Math.floor(size / 2)] = 0x80;
      assert.equal(isZeroChunk(buf), false);
    }
  });

  it('hex round-trips and the zero digest is recognised', () => {
    const d = chunkDigest(Buffer.from('x'));
    assert.deepEqual(digestFromHex(digestHex(d)), d);
    assert.equal(isZeroDigest(ZERO_DIGEST), true);
    assert.equal(isZeroDigest(d), false);
    assert.throws(() => digestFromHex('zz'), TypeError);
  });

  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
  });
});
