/**
 * The backup data path for one session: read → zero check + digest → FindMissing in batches →
 * encode (compress, encrypt) → one PutChunks stream. The stages overlap: reads run ahead of
 * hashing, FindMissing of one batch runs while the next is hashed, encoding runs while earlier
 * blobs are sent. CPU work goes to a ChunkProcessor (worker threads).
 *
 * Bounds (whatever the disk size): every chunk holds `maxInFlightBytes` budget from before it is
 * read until it is dropped (zero, duplicate, already stored) or its blob is accepted by the
 * stream, so the chunk bytes the pipeline holds never exceed it; at most `readAhead` reads and
 * `findMissingInFlight` FindMissing calls run at once; a batch holds at most a quarter of the
 * budget. The stream's write() waits for 'drain', which stops the encoders, which stops the
 * reader. Besides that: one 32-byte digest per chunk position (the index) and one entry per
 * distinct non-zero digest (sent at most once per backup).
 *
 * A failure anywhere fails the budget (waking the stages blocked on it), aborts the stream,
 * waits for every stage to stop, and is rethrown.
 */
import { CancelledError } from '../../shared/errors.js';
import { DIGEST_BYTES, ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import { chunkCountFor } from '../../shared/format/fixed-index.js';
import type { BackupDisk } from '../hypervisors/hypervisor.js';
import type { BlockStore, ChunkWriter, PutChunksTotals } from '../ports/block-store.js';
import type { ChunkProcessor } from '../ports/chunk-processor.js';
import { chunkLengthAt } from './disk-chunker.js';
import type { DiskPlan } from './read-plan.js';
import { Semaphore } from './semaphore.js';
import { TaskGroup } from './task-group.js';

export interface PipelineTuning {
  /** Most chunk bytes held at once (read, hashed, waiting for FindMissing, encoded, queued). */
  readonly maxInFlightBytes: number;
  /** Most digests per FindMissing call. */
  readonly findMissingBatch: number;
  /** Most FindMissing calls at once. */
  readonly findMissingInFlight: number;
  /** Most disk reads at once. */
  readonly readAhead: number;
}

export const defaultPipelineTuning: PipelineTuning = {
  maxInFlightBytes: 24 * 1024 * 1024,
  findMissingBatch: 256,
  findMissingInFlight: 3,
  readAhead: 4,
};

/** What the pipeline made of a session's disks. */
export interface PipelineOutput {
  /** Each disk's digests, position by position (all-zero: a chunk of zeros). */
  readonly indexes: Map<string, Buffer>;
  readonly totals: PutChunksTotals;
}

interface Pending {
  readonly digest: Buffer;
  readonly key: string;
  readonly data: Buffer;
}

export class ChunkPipeline {
  bytesRead = 0;
  chunksTotal = 0;
  chunksZero = 0;
  chunksSent = 0;
  bytesSent = 0;
  private readonly budget: Semaphore;
  private readonly reads: Semaphore;
  private readonly lookups: Semaphore;
  private readonly tasks: TaskGroup;
  private readonly maxBatchChunks: number;
  private readonly maxBatchBytes: number;
  /** Digests (latin1 keys) already taken care of in this backup: each is sent at most once. */
  private readonly seen = new Set<string>();
  private batch: Pending[] = [];
  private batchBytes = 0;
  private writer: ChunkWriter | undefined;
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: BlockStore,
    private readonly sessionId: string,
    private readonly processor: ChunkProcessor,
    private readonly chunkSizeBytes: number,
    tuning: PipelineTuning = defaultPipelineTuning,
    private readonly signal?: AbortSignal,
  ) {
    // Two chunks at least, so a batch (a quarter of the budget) never starves the reader.
    const maxInFlightBytes = Math.max(tuning.maxInFlightBytes, 4 * chunkSizeBytes);
    this.budget = new Semaphore(maxInFlightBytes);
    this.reads = new Semaphore(Math.max(1, tuning.readAhead));
    this.lookups = new Semaphore(Math.max(1, tuning.findMissingInFlight));
    this.maxBatchChunks = Math.max(1, tuning.findMissingBatch);
    this.maxBatchBytes = Math.max(chunkSizeBytes, Math.floor(maxInFlightBytes / 4));
    this.tasks = new TaskGroup((err) => {
      this.budget.fail(err);
      this.reads.fail(err);
      this.lookups.fail(err);
      this.writer?.abort();
    });
  }

  /** Most chunk bytes the pipeline held at once so far. */
  get peakInFlightBytes(): number {
    return this.budget.peakInUse;
  }

  /**
   * Sends every non-zero chunk of `disks` the store lacks; resolves once storage says all of
   * them are durable. `onRead` sees the bytes read so far.
   */
  async run(plans: readonly DiskPlan[], onRead: (bytesRead: number) => void): Promise<PipelineOutput> {
    const indexes = new Map<string, Buffer>();
    try {
      for (const { disk, baseDigests, reads } of plans) {
        // Every position starts as the base's digest, or ZERO_DIGEST (all zero bytes); only the
        // chunks read overwrite it, and only when they are not zeros.
        const digests = baseDigests ? Buffer.from(baseDigests) : Buffer.alloc(chunkCountFor(disk.sizeBytes, this.chunkSizeBytes) * DIGEST_BYTES);
        indexes.set(disk.name, digests);
        const count = digests.length / DIGEST_BYTES;
        for (let i = 0; i < count; i++) {
          if (reads && !reads[i]) continue;
          if (this.signal?.aborted) throw new CancelledError('backup cancelled');
          if (this.tasks.failure) throw this.tasks.failure;
          const length = chunkLengthAt(disk.sizeBytes, this.chunkSizeBytes, i);
          await this.budget.acquire(length);
          await this.reads.acquire();
          this.tasks.spawn(() => this.chunk(disk, i, length, digests, onRead));
        }
      }
      await this.tasks.settled();
      this.tasks.spawn(() => this.flush());
    } catch (err) {
      this.tasks.fail(err);
    }
    await this.tasks.settled();
    if (this.tasks.failure) throw this.tasks.failure;
    const writer = this.writer;
    this.writer = undefined;
    const totals = writer ? await writer.close() : { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 };
    return { indexes, totals };
  }

  /** Cancels the stream after a failure outside the pipeline. */
  abort(): void {
    this.writer?.abort();
    this.writer = undefined;
  }

  private async chunk(disk: BackupDisk, i: number, length: number, digests: Buffer, onRead: (bytesRead: number) => void): Promise<void> {
    let data: Buffer;
    try {
      if (disk.readInto) {
        data = this.processor.buffer(length);
        await disk.readInto(data, i * this.chunkSizeBytes);
      } else {
        data = await disk.read(i * this.chunkSizeBytes, length);
      }
    } finally {
      this.reads.release();
    }
    this.bytesRead += length;
    this.chunksTotal++;
    onRead(this.bytesRead);
    const described = await this.processor.describe(data);
    if (described.zero) {
      this.chunksZero++;
      // A base digest at this position (an incremental) is replaced by zeros.
      ZERO_DIGEST.copy(digests, i * DIGEST_BYTES);
      this.processor.recycle(described.data);
      this.budget.release(length);
      return;
    }
    described.digest.copy(digests, i * DIGEST_BYTES);
    const key = described.digest.toString('latin1');
    if (this.seen.has(key)) {
      this.processor.recycle(described.data);
      this.budget.release(length);
      return;
    }
    this.seen.add(key);
    this.batch.push({ digest: described.digest, key, data: described.data });
    this.batchBytes += length;
    if (this.batch.length >= this.maxBatchChunks || this.batchBytes >= this.maxBatchBytes) this.tasks.spawn(() => this.flush());
  }

  /** Asks storage which chunks of the batch it lacks, and sends those. */
  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0) return;
    await this.lookups.acquire();
    let missing: Buffer[];
    try {
      missing = await this.store.findMissing(batch.map((p) => p.digest), this.sessionId);
    } finally {
      this.lookups.release();
    }
    const wanted = new Set(missing.map((d) => d.toString('latin1')));
    for (const pending of batch) {
      if (wanted.has(pending.key)) {
        this.tasks.spawn(() => this.send(pending));
      } else {
        this.budget.release(pending.data.length);
        this.processor.recycle(pending.data);
      }
    }
  }

  private async send(pending: Pending): Promise<void> {
    const length = pending.data.length;
    const blob = await this.processor.encode(pending.data, pending.digest);
    const blobBytes = blob.length;
    try {
      await this.write(pending.digest, blob);
    } finally {
      // The writer has serialized (copied) the blob by the time write() settles.
      this.processor.recycle(blob);
    }
    this.chunksSent++;
    this.bytesSent += blobBytes;
    this.budget.release(length);
  }

  /** Writes go one after another on the single stream, each waiting for 'drain' when needed. */
  private write(digest: Buffer, blob: Buffer): Promise<void> {
    const done = this.writeChain.then(() => {
      if (this.tasks.failure) throw this.tasks.failure;
      this.writer ??= this.store.putChunks(this.sessionId);
      return this.writer.write(digest, blob);
    });
    this.writeChain = done.catch(() => undefined);
    return done;
  }
}
