import { CorruptDataError } from '../../shared/errors.js';
import { checkBlob, decodeBlobChecked } from '../../shared/format/blob.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import type { ChunkStore } from './chunk-store.js';
import { TaskPool } from './task-pool.js';

/** What one stream of uploaded chunks did. */
export interface IntakeStats {
  chunksWritten: number;
  chunksAlreadyPresent: number;
  bytesWritten: number;
}

/**
 * Receives blobs from a sender that is not trusted: each is checked (structure, CRC, content
 * against its digest) before it is written; writes run a few at a time, and `finish` resolves
 * only once every accepted chunk is durable.
 */
export class ChunkIntake {
  private readonly pool: TaskPool;
  readonly stats: IntakeStats = { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 };

  constructor(
    private readonly chunks: ChunkStore,
    private readonly maxPlaintextBytes: number,
    concurrency = 4,
  ) {
    this.pool = new TaskPool(concurrency);
  }

  /** Checks one blob and queues its write; waits while the pool is full. */
  async accept(digest: Buffer, blob: Buffer): Promise<void> {
    const what = `chunk ${digestHex(digest)}`;
    const header = checkBlob(blob, what);
    if (header.plaintextBytes > this.maxPlaintextBytes) {
      throw new CorruptDataError(what, `plaintext of ${header.plaintextBytes} bytes exceeds the chunk size ${this.maxPlaintextBytes}`);
    }
    decodeBlobChecked(blob, digest);
    await this.pool.run(async () => {
      const outcome = await this.chunks.put(digest, blob);
      if (outcome === 'written') {
        this.stats.chunksWritten++;
        this.stats.bytesWritten += blob.length;
      } else {
        this.stats.chunksAlreadyPresent++;
      }
    });
  }

  /** Waits until every accepted chunk is durable; throws the first write failure. */
  async finish(): Promise<IntakeStats> {
    await this.pool.drain();
    return this.stats;
  }
}
