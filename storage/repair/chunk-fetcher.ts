/**
 * Fetches single chunks from peers for heals, sharing calls: heals that start together (a restore
 * reading many damaged chunks, a verify healing its findings) ask each peer in one GetChunks call
 * instead of one round trip each. Requests queue per peer and per set of options and go out on
 * the next turn of the event loop, or as soon as `maxBatch` are waiting.
 *
 * A peer answers a GetChunks call with an error as soon as it lacks one digest of it, so when a
 * shared call fails, each digest it had not yet delivered is asked again on its own: one chunk the
 * peer lacks never costs the others their copy.
 */
import { ChunkMissingError, CorruptDataError } from '../../shared/errors.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import type { PeerReadOptions, PeerStore } from '../replication/peer-store.js';

interface Waiting {
  readonly digest: Buffer;
  readonly resolve: (blob: Buffer) => void;
  readonly reject: (err: unknown) => void;
}

interface Batch {
  readonly peer: PeerStore;
  readonly options: PeerReadOptions;
  readonly waiting: Waiting[];
}

export class ChunkFetcher {
  private readonly open = new Map<string, Batch>();

  constructor(private readonly maxBatch = 32) {}

  /** The blob of one digest from `peer` (unchecked: the caller checks it). */
  fetch(peer: PeerStore, digest: Buffer, options: PeerReadOptions): Promise<Buffer> {
    const key = `${peer.site}|${(options.excludeSites ?? []).join(',')}|${options.waitForReadyMs ?? 0}`;
    return new Promise<Buffer>((resolve, reject) => {
      let batch = this.open.get(key);
      if (!batch) {
        const fresh: Batch = { peer, options, waiting: [] };
        batch = fresh;
        this.open.set(key, fresh);
        setImmediate(() => this.send(key, fresh));
      }
      batch.waiting.push({ digest, resolve, reject });
      if (batch.waiting.length >= this.maxBatch) this.send(key, batch);
    });
  }

  private send(key: string, batch: Batch): void {
    if (this.open.get(key) !== batch) return; // Already sent (full), or a later batch.
    this.open.delete(key);
    void this.call(batch);
  }

  private async call(batch: Batch): Promise<void> {
    const pending = new Map<string, Waiting[]>();
    for (const w of batch.waiting) {
      const hex = digestHex(w.digest);
      pending.set(hex, [...(pending.get(hex) ?? []), w]);
    }
    const digests = [...pending.values()].map((ws) => ws[0]?.digest ?? Buffer.alloc(0));
    try {
      for await (const chunk of batch.peer.getChunks(digests, batch.options)) {
        const hex = digestHex(chunk.digest);
        const ws = pending.get(hex);
        if (!ws) throw new CorruptDataError(`chunk ${hex} from ${batch.peer.site}`, 'the peer sent a chunk it was not asked for');
        pending.delete(hex);
        for (const w of ws) w.resolve(chunk.blob);
      }
      for (const [hex, ws] of pending) for (const w of ws) w.reject(new ChunkMissingError([hex], { peer: batch.peer.site }));
    } catch (err) {
      if (digests.length === 1 || pending.size === 0) {
        for (const ws of pending.values()) for (const w of ws) w.reject(err);
        return;
      }
      // Ask for the rest one by one: only the digests the peer cannot supply fail.
      await Promise.all(
        [...pending.values()].map(async (ws) => {
          const first = ws[0];
          if (!first) return;
          try {
            let blob: Buffer | undefined;
            for await (const chunk of batch.peer.getChunks([first.digest], batch.options)) blob = chunk.blob;
            if (!blob) throw new ChunkMissingError([digestHex(first.digest)], { peer: batch.peer.site });
            for (const w of ws) w.resolve(blob);
          } catch (one) {
            for (const w of ws) w.reject(one);
          }
        }),
      );
    }
  }
}
