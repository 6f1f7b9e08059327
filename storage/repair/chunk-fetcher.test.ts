import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkMissingError } from '../../shared/errors.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import type { PeerChunk, PeerReadOptions, PeerStore } from '../replication/peer-store.js';
import { ChunkFetcher } from './chunk-fetcher.js';

/** A peer that holds some blobs and, like a storage, fails a whole call on the first digest it lacks. */
function fakePeer(held: Map<string, Buffer>): PeerStore & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    site: 'b',
    calls,
    info: () => Promise.reject(new Error('unused')),
    listBackups: () => Promise.reject(new Error('unused')),
    getManifest: () => Promise.reject(new Error('unused')),
    getIndex: () => Promise.reject(new Error('unused')),
    async *getChunks(digests: readonly Buffer[], _options?: PeerReadOptions): AsyncIterable<PeerChunk> {
      calls.push(digests.map(digestHex));
      await Promise.resolve();
      for (const digest of digests) {
        const blob = held.get(digestHex(digest));
        if (!blob) throw new ChunkMissingError([digestHex(digest)]);
        yield { digest, blob };
      }
    },
    close: () => undefined,
  };
}

const digest = (n: number) => Buffer.alloc(32, n);

describe('ChunkFetcher', () => {
  it('asks a peer once for heals that start together, and serves each its own blob', async () => {
    const held = new Map(Array.from({ length: 10 }, (_, i) => [digestHex(digest(i)), Buffer.from(`blob ${i}`)] as const));
    const peer = fakePeer(held);
    const fetcher = new ChunkFetcher(32);
    const blobs = await Promise.all(Array.from({ length: 10 }, (_, i) => fetcher.fetch(peer, digest(i), { excludeSites: ['a'] })));
    assert.deepEqual(blobs.map(String), Array.from({ length: 10 }, (_, i) => `blob ${i}`));
    assert.equal(peer.calls.length, 1);
    // The same digest asked twice at once is fetched once.
    const [x, y] = await Promise.all([fetcher.fetch(peer, digest(1), {}), fetcher.fetch(peer, digest(1), {})]);
    assert.equal(String(x), 'blob 1');
    assert.equal(String(y), 'blob 1');
    assert.deepEqual(peer.calls[1], [digestHex(digest(1))]);
  });

  it('caps a call at maxBatch, and a digest the peer lacks fails alone', async () => {
    const held = new Map(Array.from({ length: 6 }, (_, i) => [digestHex(digest(i)), Buffer.from(`blob ${i}`)] as const));
    held.delete(digestHex(digest(2)));
    const peer = fakePeer(held);
    const fetcher = new ChunkFetcher(4);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => fetcher.fetch(peer, digest(i), {})));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    const failed = results[2];
    assert.ok(failed?.status === 'rejected' && failed.reason instanceof ChunkMissingError);
    assert.equal(peer.calls[0]?.length, 4, 'the first call carries maxBatch digests');
    assert.ok(peer.calls.length > 2, 'after the shared call failed, the rest were asked one by one');
  });
});
