import { digestHex } from '../../shared/format/chunk-digest.js';
import type { BlobChecker } from './blob-checker.js';
import type { ChunkHold } from './chunk-hold.js';
import type { ChunkStore } from './chunk-store.js';
import { TaskPool } from './task-pool.js';

/** What one stream of uploaded chunks did. */
export interface IntakeStats {
  chunksWritten: number;
  chunksAlreadyPresent: number;
  bytesWritten: number;
}

/** Blobs checked and written at once by one stream: enough to overlap fsync latency, bounded memory (≤ 16 × 4 MiB). */
export const INTAKE_CONCURRENCY = 16;

/**
 * Receives blobs from a sender that is not trusted. The quick checks (structure, CRC, kind,
 * size) run at once so a bad blob fails its own message; the digest check of a plain blob and
 * the write run in a bounded pool, several chunks at a time. Each digest is held for the
 * session before anything is written, so garbage collection cannot sweep it. `finish` resolves
 * only once every accepted chunk is durable and the session's chunk log records them.
 */
export class ChunkIntake {
  private readonly pool: TaskPool;
  readonly stats: IntakeStats = { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 };

  constructor(
    private readonly chunks: ChunkStore,
    private readonly checker: BlobChecker,
    private readonly hold: ChunkHold | undefined,
    concurrency = INTAKE_CONCURRENCY,
  ) {
    this.pool = new TaskPool(concurrency);
  }

  /** Checks one blob and queues its write; waits while the pool is full. A failed write or digest check fails a later call. */
  async accept(digest: Buffer, blob: Buffer): Promise<void> {
    const header = this.checker.checkShape(digest, blob);
    this.hold?.add(digestHex(digest));
    await this.pool.run(async () => {
      await this.checker.checkContent(digest, blob, header);
      const outcome = await this.chunks.put(digest, blob);
      if (outcome === 'written') {
        this.stats.chunksWritten++;
        this.stats.bytesWritten += blob.length;
      } else {
        this.stats.chunksAlreadyPresent++;
      }
    });
  }

  /** Waits until every accepted chunk is durable and recorded; throws the first failure. */
  async finish(): Promise<IntakeStats> {
    await this.pool.drain();
    await this.hold?.persist();
    return this.stats;
  }
}
