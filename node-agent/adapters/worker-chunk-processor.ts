/**
 * A ChunkProcessor over a pool of worker threads (node:worker_threads), one per core by default,
 * so hashing, compression and encryption use every core while the main thread reads and talks
 * gRPC. Each thread builds its own ChunkCodec from the key material it is started with. A task
 * goes to the thread with the fewest outstanding; callers bound how many tasks they have in flight.
 *
 * Chunk memory: slots of one chunk (plus blob overhead) in SharedArrayBuffer arenas of
 * SLOTS_PER_ARENA, made when the free slots run out and sent once to every thread; tasks name a
 * slot. Slots are reused for the life of the job, so a backup of any size allocates no chunk
 * memory after its first few chunks and moves none between threads (a transferred buffer is new
 * external memory to the receiving isolate, and V8 answers every 64 MB of it with a full
 * collection). A buffer from elsewhere (a driver's read, a received blob) is copied into a slot.
 *
 * A thread that dies (uncaught error, exit) fails the whole processor: every pending and later
 * call rejects with ChunkWorkerError, the other threads are terminated, and the job fails.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { keyMaterialOf, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { AppError, CorruptDataError } from '../../shared/errors.js';
import { BLOB_OVERHEAD_BYTES } from '../../shared/format/blob.js';
import { ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import type { ChunkDescription, ChunkProcessor, ChunkProcessorOptions } from '../ports/chunk-processor.js';
import { reviveError, type ChunkTask, type ChunkTaskResult, type ChunkWorkerData, type SlotRef } from './chunk-worker-protocol.js';

/** A chunk worker thread died; the job that used it fails. */
export class ChunkWorkerError extends AppError {
  constructor(problem: string, cause?: unknown) {
    super('INTERNAL', `a chunk worker thread failed: ${problem}`, { cause, details: { problem } });
  }
}

export interface WorkerChunkProcessorOptions {
  /** Threads in the pool; default one per core. */
  readonly threads?: number;
  /** The thread's module; default chunk-processor-worker beside this file (tests swap it). */
  readonly workerUrl?: URL;
}

interface Thread {
  readonly worker: Worker;
  load: number;
  exited: boolean;
}

interface Pending {
  resolve(result: ChunkTaskResult): void;
  reject(err: Error): void;
  readonly thread: Thread;
}

type WorkOp = Exclude<ChunkTask['op'], 'arena'>;
type TaskOf<Op extends WorkOp> = Omit<Extract<ChunkTask, { op: Op }>, 'id'>;
type ResultOf<Op extends WorkOp> = Extract<ChunkTaskResult, { ok: true; op: Op }>;

/** Slots per arena: arenas are made as the free slots run out, 8 chunks at a time. */
const SLOTS_PER_ARENA = 8;

const defaultWorkerUrl = new URL(`./chunk-processor-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Node's CPU-profiling flags of this process, so `node --cpu-prof` profiles the threads too. */
function profilingFlags(): string[] {
  return process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
}

export class WorkerChunkProcessor implements ChunkProcessor {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly slotBytes: number;
  /** The arenas, by index, and each arena's index by its memory. */
  private readonly arenaMemory: SharedArrayBuffer[] = [];
  private readonly arenas = new Map<SharedArrayBuffer, number>();
  /** Free slots as `arena * SLOTS_PER_ARENA + slot`. */
  private readonly free: number[] = [];
  private readonly isFree = new Set<number>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(keys: DatastoreKeys | null, options: WorkerChunkProcessorOptions & ChunkProcessorOptions) {
    const count = Math.max(1, options.threads ?? availableParallelism());
    this.slotBytes = options.chunkSizeBytes + BLOB_OVERHEAD_BYTES;
    const workerData: ChunkWorkerData = { keyMaterial: keys ? keyMaterialOf(keys) : null, slotBytes: this.slotBytes };
    for (let i = 0; i < count; i++) this.threads.push(this.startThread(options.workerUrl ?? defaultWorkerUrl, workerData));
  }

  /** Threads in the pool that have not exited. */
  get liveThreads(): number {
    return this.threads.filter((t) => !t.exited).length;
  }

  /** Chunk slots made so far (each one chunk plus blob overhead). */
  get slotCount(): number {
    return this.arenas.size * SLOTS_PER_ARENA;
  }

  buffer(length: number): Buffer {
    if (length > this.slotBytes - BLOB_OVERHEAD_BYTES) throw new RangeError(`a chunk of ${length} bytes exceeds this job's chunk size`);
    const id = this.takeSlot();
    return this.view(id, length);
  }

  async describe(data: Buffer): Promise<ChunkDescription> {
    const ref = this.slotFor(data, 'chunk');
    const view = this.view(ref.id, data.length);
    const res = await this.call<'describe'>({ op: 'describe', ...ref.at }, view);
    return { data: view, digest: res.digest ? Buffer.from(res.digest) : ZERO_DIGEST, zero: res.zero };
  }

  async encode(data: Buffer, digest: Buffer): Promise<Buffer> {
    const ref = this.slotFor(data, 'chunk');
    const res = await this.call<'encode'>({ op: 'encode', digest: new Uint8Array(digest), ...ref.at }, this.view(ref.id, 0));
    return this.view(ref.id, res.length);
  }

  async decode(blob: Buffer, digest: Buffer): Promise<Buffer> {
    if (blob.length > this.slotBytes) throw new CorruptDataError(`chunk ${digest.toString('hex')}`, `blob of ${blob.length} bytes exceeds this job's chunk size`);
    const ref = this.slotFor(blob, 'blob');
    const res = await this.call<'decode'>({ op: 'decode', digest: new Uint8Array(digest), ...ref.at }, this.view(ref.id, 0));
    return this.view(ref.id, res.length);
  }

  recycle(buf: Buffer): void {
    const id = this.slotOf(buf);
    if (id === undefined || this.isFree.has(id)) return;
    this.isFree.add(id);
    this.free.push(id);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.rejectAll(new Error('chunk processor closed'));
      await Promise.all(this.threads.map((t) => t.worker.terminate()));
    })();
    return this.closing;
  }

  private startThread(url: URL, workerData: ChunkWorkerData): Thread {
    let worker: Worker;
    if (url.pathname.endsWith('.ts')) {
      // Running from TypeScript sources (tsx): a thread's entry cannot be .ts even under
      // `--import tsx`, so a one-line entry registers tsx's require hook, then loads the module.
      // (tsx's ESM loader would add a module-hooks thread, and its memory, to every thread.)
      const loader = createRequire(import.meta.url).resolve('tsx/cjs/api');
      const entry = `require(${JSON.stringify(loader)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
      worker = new Worker(entry, { eval: true, workerData, execArgv: profilingFlags() });
    } else {
      worker = new Worker(url, { workerData, execArgv: profilingFlags() });
    }
    const thread: Thread = { worker, load: 0, exited: false };
    worker.on('message', (res: ChunkTaskResult) => this.settle(res));
    worker.on('error', (err) => this.crash(err.message, err));
    worker.on('messageerror', (err) => this.crash(err.message, err));
    worker.on('exit', (code) => {
      thread.exited = true;
      if (!this.closing) this.crash(`exited with code ${code}`);
    });
    return thread;
  }

  /** The slot holding `buf`, or a free slot with a copy of it. */
  private slotFor(buf: Buffer, what: string): { id: number; at: SlotRef } {
    let id = this.slotOf(buf);
    if (id === undefined || buf.byteOffset % this.slotBytes !== 0) {
      if (buf.length > this.slotBytes) throw new RangeError(`a ${what} of ${buf.length} bytes exceeds this job's slots`);
      id = this.takeSlot();
      buf.copy(this.view(id, buf.length));
    }
    return { id, at: { arena: Math.floor(id / SLOTS_PER_ARENA), slot: id % SLOTS_PER_ARENA, length: buf.length } };
  }

  private slotOf(buf: Buffer): number | undefined {
    const arena = buf.buffer instanceof SharedArrayBuffer ? this.arenas.get(buf.buffer) : undefined;
    if (arena === undefined) return undefined;
    return arena * SLOTS_PER_ARENA + Math.floor(buf.byteOffset / this.slotBytes);
  }

  private takeSlot(): number {
    if (this.free.length === 0) this.addArena();
    const id = this.free.pop();
    if (id === undefined) throw new Error('no free chunk slot');
    this.isFree.delete(id);
    return id;
  }

  private view(id: number, length: number): Buffer {
    const arena = Math.floor(id / SLOTS_PER_ARENA);
    const memory = this.arenaMemory[arena];
    if (!memory) throw new Error(`unknown arena ${arena}`);
    return Buffer.from(memory, (id % SLOTS_PER_ARENA) * this.slotBytes, length);
  }

  private addArena(): void {
    const arena = this.arenaMemory.length;
    const memory = new SharedArrayBuffer(SLOTS_PER_ARENA * this.slotBytes);
    this.arenaMemory.push(memory);
    this.arenas.set(memory, arena);
    // Messages to a thread arrive in order, so every later task finds the arena.
    for (const t of this.threads) if (!t.exited) t.worker.postMessage({ op: 'arena', arena, memory } satisfies ChunkTask);
    for (let slot = SLOTS_PER_ARENA - 1; slot >= 0; slot--) {
      const id = arena * SLOTS_PER_ARENA + slot;
      this.free.push(id);
      this.isFree.add(id);
    }
  }

  /** Runs a task on the least loaded thread; `slot` is the task's memory, unusable until it settles. */
  private call<Op extends WorkOp>(task: TaskOf<Op>, _slot: Buffer): Promise<ResultOf<Op>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('chunk processor closed'));
    const thread = this.threads.reduce((best, t) => (t.load < best.load ? t : best));
    const id = this.nextId++;
    return new Promise<ChunkTaskResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread });
      thread.load++;
      try {
        thread.worker.postMessage({ ...task, id });
      } catch (err) {
        this.pending.delete(id);
        thread.load--;
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }).then((res) => res as ResultOf<Op>);
  }

  private settle(res: ChunkTaskResult): void {
    const pending = this.pending.get(res.id);
    if (!pending) return;
    this.pending.delete(res.id);
    pending.thread.load--;
    if (res.ok) pending.resolve(res);
    else pending.reject(reviveError(res.error));
  }

  private crash(problem: string, cause?: unknown): void {
    if (this.failure || this.closing) return;
    this.failure = new ChunkWorkerError(problem, cause);
    this.rejectAll(this.failure);
    for (const t of this.threads) void t.worker.terminate();
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const t of this.threads) t.load = 0;
  }
}
