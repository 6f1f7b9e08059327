/**
 * Garbage collection: mark and sweep with a grace period, safe while backups run.
 *
 * Mark: every digest of every .fidx under backups/ (any backup directory, even one whose
 * manifest is damaged or not yet written; an index that does not decode is marked
 * conservatively, every 32-byte slot of its body). While the collector runs, each commit and
 * import also marks its chunks (Datastore.beginGc), and open sessions and imports hold theirs
 * (ChunkHold: every chunk written or reported present through a session, every digest of its
 * uploaded indexes; sessions persist theirs in chunks.log across restarts).
 * Sweep: every stored chunk neither marked nor held, whose file is older than the grace period
 * on the store's own clock (its mtime against a probe file's), is deleted. The decision is made
 * again inside ChunkStore.remove, while no put of that digest can run, so a chunk that a session
 * holds or a put reports present at that moment is never deleted. Locked backups are manifests,
 * so their chunks are always marked.
 */
import type { Clock } from '../../shared/clock.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, FIDX_HEADER_BYTES } from '../../shared/format/fixed-index.js';
import type { Logger } from '../../shared/log.js';
import type { GcResult } from '../../shared/messages/results.js';
import { digestsOf, type Datastore } from './datastore.js';
import { TaskPool } from './task-pool.js';

export interface GcOptions {
  readonly datastore: Datastore;
  readonly site: string;
  /** Unreferenced chunks younger than this are kept. */
  readonly graceMs: number;
  readonly dryRun: boolean;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

export async function runGc(opts: GcOptions): Promise<GcResult> {
  const { datastore, clock, log } = opts;
  const startedMs = clock.nowMs();
  const gc = datastore.beginGc();
  const result: GcResult = {
    site: opts.site,
    dryRun: opts.dryRun,
    chunksScanned: 0,
    chunksReferenced: 0,
    chunksInGrace: 0,
    chunksRemoved: 0,
    bytesReclaimed: 0,
    durationMs: 0,
  };
  try {
    const cutoffMs = (await datastore.chunks.clockMs()) - opts.graceMs;
    for await (const { backupId, name, file } of datastore.allIndexFiles()) {
      opts.signal?.throwIfAborted();
      try {
        for (const hex of digestsOf(decodeFixedIndex(file))) gc.marks.add(hex);
      } catch (err) {
        log.warn({ err, backupId, file: name }, 'index does not decode: marking every slot of it');
        for (let at = FIDX_HEADER_BYTES; at + DIGEST_BYTES <= file.length; at += DIGEST_BYTES) {
          const slot = file.subarray(at, at + DIGEST_BYTES);
          if (!isZeroDigest(slot)) gc.marks.add(digestHex(slot));
        }
      }
    }
    const pool = new TaskPool(8);
    for await (const digest of datastore.chunks.list()) {
      opts.signal?.throwIfAborted();
      result.chunksScanned++;
      const hex = digestHex(digest);
      if (gc.isReferenced(hex)) {
        result.chunksReferenced++;
        continue;
      }
      await pool.run(async () => {
        // 'busy': a put of this digest is running (or the file just went): not ours to judge now.
        const seen: { outcome: 'referenced' | 'grace' | 'unreferenced' | 'busy'; sizeBytes: number } = { outcome: 'busy', sizeBytes: 0 };
        const deleted = await datastore.chunks.remove(digest, (info) => {
          seen.sizeBytes = info.sizeBytes;
          if (gc.isReferenced(hex)) seen.outcome = 'referenced';
          else if (info.mtimeMs >= cutoffMs) seen.outcome = 'grace';
          else seen.outcome = 'unreferenced';
          return seen.outcome === 'unreferenced' && !opts.dryRun;
        });
        if (seen.outcome === 'referenced') result.chunksReferenced++;
        else if (seen.outcome === 'grace' || seen.outcome === 'busy') result.chunksInGrace++;
        else if (deleted || opts.dryRun) {
          result.chunksRemoved++;
          result.bytesReclaimed += seen.sizeBytes;
        }
      });
    }
    await pool.drain();
  } finally {
    datastore.endGc(gc);
  }
  result.durationMs = clock.nowMs() - startedMs;
  log.info(
    {
      dryRun: opts.dryRun,
      scanned: result.chunksScanned,
      referenced: result.chunksReferenced,
      inGrace: result.chunksInGrace,
      removed: result.chunksRemoved,
      bytesReclaimed: result.bytesReclaimed,
    },
    'garbage collection finished',
  );
  return result;
}
