/**
 * A ChunkProcessor over a pool of worker threads (node:worker_threads), one per core by default,
 * so hashing, compression and encryption use every core while the main thread reads and talks
 * gRPC. Each thread builds its own ChunkCodec from the key material it is started with. Chunk
 * bytes move between threads (transfer lists), never copied. A task goes to the thread with the
 * fewest outstanding; callers bound how many tasks they have in flight.
 *
 * A thread that dies (uncaught error, exit) fails the whole processor: every pending and later
 * call rejects with ChunkWorkerError, the other threads are terminated, and the job fails.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { keyMaterialOf, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { AppError } from '../../shared/errors.js';
import { ZERO_DIGEST } from '../../shared/format/chunk-digest.js';
import type { ChunkDescription, ChunkProcessor } from '../ports/chunk-processor.js';
import { reviveError, transferableOf, type ChunkTask, type ChunkTaskResult, type ChunkWorkerData } from './chunk-worker-protocol.js';

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

type TaskOf<Op extends ChunkTask['op']> = Omit<Extract<ChunkTask, { op: Op }>, 'id'>;
type ResultOf<Op extends ChunkTask['op']> = Extract<ChunkTaskResult, { ok: true; op: Op }>;

const defaultWorkerUrl = new URL(`./chunk-processor-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Node's CPU-profiling flags of this process, so `node --cpu-prof` profiles the threads too. */
function profilingFlags(): string[] {
  return process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
}

export class WorkerChunkProcessor implements ChunkProcessor {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(keys: DatastoreKeys | null, options: WorkerChunkProcessorOptions = {}) {
    const count = Math.max(1, options.threads ?? availableParallelism());
    const workerData: ChunkWorkerData = { keyMaterial: keys ? keyMaterialOf(keys) : null };
    for (let i = 0; i < count; i++) this.threads.push(this.startThread(options.workerUrl ?? defaultWorkerUrl, workerData));
  }

  /** Threads in the pool that have not exited. */
  get liveThreads(): number {
    return this.threads.filter((t) => !t.exited).length;
  }

  async describe(data: Buffer): Promise<ChunkDescription> {
    const buffer = transferableOf(data);
    const res = await this.call<'describe'>({ op: 'describe', data: buffer }, [buffer]);
    return { data: Buffer.from(res.data), digest: res.digest ? Buffer.from(res.digest) : ZERO_DIGEST, zero: res.zero };
  }

  async encode(data: Buffer, digest: Buffer): Promise<{ blob: Buffer; data: Buffer }> {
    const buffer = transferableOf(data);
    const res = await this.call<'encode'>({ op: 'encode', data: buffer, digest: transferableOf(Buffer.from(digest)) }, [buffer]);
    return { blob: Buffer.from(res.blob), data: Buffer.from(res.data) };
  }

  async decode(blob: Buffer, digest: Buffer): Promise<Buffer> {
    const buffer = transferableOf(blob);
    const res = await this.call<'decode'>({ op: 'decode', blob: buffer, digest: transferableOf(Buffer.from(digest)) }, [buffer]);
    return Buffer.from(res.plaintext);
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

  private call<Op extends ChunkTask['op']>(task: TaskOf<Op>, transfer: TransferListItem[]): Promise<ResultOf<Op>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('chunk processor closed'));
    const thread = this.threads.reduce((best, t) => (t.load < best.load ? t : best));
    const id = this.nextId++;
    return new Promise<ChunkTaskResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread });
      thread.load++;
      try {
        thread.worker.postMessage({ ...task, id }, transfer);
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
