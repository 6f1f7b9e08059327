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
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { chunkCountFor } from '../../shared/format/fixed-index.js';
import type { BackupDisk } from '../hypervisors/hypervisor.js';
import type { BlockStore, ChunkWriter, PutChunksTotals } from '../ports/block-store.js';
import type { ChunkProcessor } from '../ports/chunk-processor.js';
import { chunkLengthAt } from './disk-chunker.js';
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

/**
 * Chunk-size read buffers, reused once their chunk is done with: a backup of any size allocates
 * no more of them than the budget holds, and leaves no garbage of them behind.
 */
class ChunkBuffers {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly sizeBytes: number,
    /** Most buffers kept for reuse: what the budget can hold at once. */
    private readonly maxFree: number,
  ) {}

  /** Buffers kept for reuse now. */
  get idle(): number {
    return this.free.length;
  }

  take(length: number): Buffer {
    if (length !== this.sizeBytes) return Buffer.allocUnsafeSlow(length);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(length);
  }

  /** Takes back a chunk's buffer (any buffer: a driver without readInto hands out its own). */
  give(buf: Buffer): void {
    if (this.free.length >= this.maxFree) return;
    if (buf.length === this.sizeBytes && buf.byteOffset === 0 && buf.buffer.byteLength === this.sizeBytes) this.free.push(buf);
  }
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
  private readonly buffers: ChunkBuffers;
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
    this.buffers = new ChunkBuffers(chunkSizeBytes, Math.ceil(maxInFlightBytes / chunkSizeBytes));
    this.maxBatchChunks = Math.max(1, tuning.findMissingBatch);
    this.maxBatchBytes = Math.max(chunkSizeBytes, Math.floor(maxInFlightBytes / 4));
    this.tasks = new TaskGroup((err) => {
      this.budget.fail(err);
      this.reads.fail(err);
      this.lookups.fail(err);
      this.writer?.abort();
    });
  }

  /** Read buffers kept for reuse (at most the budget's worth). */
  get idleBuffers(): number {
    return this.buffers.idle;
  }

  /** Most chunk bytes the pipeline held at once so far. */
  get peakInFlightBytes(): number {
    return this.budget.peakInUse;
  }

  /**
   * Sends every non-zero chunk of `disks` the store lacks; resolves once storage says all of
   * them are durable. `onRead` sees the bytes read so far.
   */
  async run(disks: readonly BackupDisk[], onRead: (bytesRead: number) => void): Promise<PipelineOutput> {
    const indexes = new Map<string, Buffer>();
    try {
      for (const disk of disks) {
        // Zero-filled: every position starts as ZERO_DIGEST and only non-zero chunks overwrite it.
        const digests = Buffer.alloc(chunkCountFor(disk.sizeBytes, this.chunkSizeBytes) * DIGEST_BYTES);
        indexes.set(disk.name, digests);
        const count = digests.length / DIGEST_BYTES;
        for (let i = 0; i < count; i++) {
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
        data = this.buffers.take(length);
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
      this.buffers.give(described.data);
      this.budget.release(length);
      return;
    }
    described.digest.copy(digests, i * DIGEST_BYTES);
    const key = described.digest.toString('latin1');
    if (this.seen.has(key)) {
      this.buffers.give(described.data);
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
        this.buffers.give(pending.data);
      }
    }
  }

  private async send(pending: Pending): Promise<void> {
    const length = pending.data.length;
    const { blob, data } = await this.processor.encode(pending.data, pending.digest);
    this.buffers.give(data);
    await this.write(pending.digest, blob);
    this.chunksSent++;
    this.bytesSent += blob.length;
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
