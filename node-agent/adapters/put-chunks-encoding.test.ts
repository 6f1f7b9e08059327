import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { putChunksMethod } from '../../shared/rpc/proto-packages.js';
import { seededBytes } from '../testing/disk-images.js';
import { encodePutChunksRequest } from './put-chunks-encoding.js';

describe('PutChunksRequest encoded by hand', () => {
  const method = putChunksMethod();
  const digest = seededBytes(1, 32);

  it('is byte for byte what protobuf makes, for blob sizes across every varint length', () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 1024 * 1024 + 48, 2_097_151, 2_097_152, 4 * 1024 * 1024 + 48]) {
      const blob = seededBytes(size + 7, size);
      for (const sessionId of [undefined, '01JSESSION0000000000000000', 'é-ünïcode']) {
        const ours = encodePutChunksRequest(sessionId, digest, blob);
        const theirs = method.requestSerialize(sessionId === undefined ? { digest, blob } : { sessionId, digest, blob });
        assert.ok(ours.equals(theirs), `size ${size}, session ${String(sessionId)}`);
        const back = method.requestDeserialize(ours);
        assert.ok(Buffer.from(back.blob).equals(blob));
        assert.ok(Buffer.from(back.digest).equals(digest));
        assert.equal(back.sessionId, sessionId ?? '');
      }
    }
  });

  it('works from a view into shared memory (the chunk slots)', () => {
    const shared = Buffer.from(new SharedArrayBuffer(4096), 100, 1000);
    shared.fill(0x5a);
    const back = method.requestDeserialize(encodePutChunksRequest(undefined, digest, shared));
    assert.ok(Buffer.from(back.blob).equals(Buffer.alloc(1000, 0x5a)));
  });
});
