import { encodeBlob } from '../../shared/format/blob.js';
import type { BlockStore, ChunkWriter, PutChunksTotals } from '../ports/block-store.js';

/**
 * Sends the chunks of one backup that the store lacks. Chunks are offered with their plaintext
 * and held until `flush()` asks FindMissing about the whole batch; only missing ones are encoded
 * and streamed, on one PutChunks stream for the whole backup (opened on the first blob).
 * A digest is sent at most once per backup: chunks already streamed are not durable until the
 * stream closes, so FindMissing may still call them missing.
 */
export class ChunkUploader {
  private readonly sent = new Set<string>();
  private readonly batch = new Map<string, { digest: Buffer; data: Buffer }>();
  private batchBytes = 0;
  private writer: ChunkWriter | undefined;
  chunksSent = 0;
  bytesSent = 0;

  constructor(
    private readonly store: BlockStore,
    private readonly sessionId: string,
    /** Most digests per FindMissing call. */
    private readonly maxBatchChunks: number,
    /** Most plaintext bytes held while a batch fills. */
    private readonly maxBatchBytes: number,
  ) {}

  /** Offers a non-zero chunk; flushes when the batch is full. */
  async offer(digest: Buffer, data: Buffer): Promise<void> {
    const key = digest.toString('latin1');
    if (this.sent.has(key) || this.batch.has(key)) return;
    this.batch.set(key, { digest, data });
    this.batchBytes += data.length;
    if (this.batch.size >= this.maxBatchChunks || this.batchBytes >= this.maxBatchBytes) await this.flush();
  }

  /** Asks which chunks of the batch are missing and streams those. */
  async flush(): Promise<void> {
    if (this.batch.size === 0) return;
    const pending = [...this.batch.values()];
    this.batch.clear();
    this.batchBytes = 0;
    const missing = await this.store.findMissing(pending.map((p) => p.digest));
    const wanted = new Set(missing.map((d) => d.toString('latin1')));
    for (const { digest, data } of pending) {
      const key = digest.toString('latin1');
      if (!wanted.has(key)) continue;
      const blob = encodeBlob(data);
      this.writer ??= this.store.putChunks(this.sessionId);
      await this.writer.write(digest, blob);
      this.sent.add(key);
      this.chunksSent++;
      this.bytesSent += blob.length;
    }
  }

  /** Flushes, ends the stream and waits until storage says every chunk is durable. */
  async close(): Promise<PutChunksTotals> {
    await this.flush();
    const writer = this.writer;
    this.writer = undefined;
    if (!writer) return { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 };
    return writer.close();
  }

  /** Cancels the stream after a failure. */
  abort(): void {
    this.writer?.abort();
    this.writer = undefined;
    this.batch.clear();
  }
}
