/**
 * A thread of WorkerChunkProcessor: runs ChunkCodec on the chunks it is told about, one at a
 * time, with the key material it was started with. Chunks sit in the shared arenas it is sent
 * (chunk-worker-protocol.ts); results are written back into the task's slot.
 *
 * Memory: the codec's own buffers (zstd output, cipher slices, the blob before it is copied into
 * its slot) die young; the thread scavenges every few MiB (young-gc.ts) instead of letting V8
 * pile up 64 MB of them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { CorruptDataError } from '../../shared/errors.js';
import { isZeroChunk } from '../../shared/format/chunk-digest.js';
import { youngGcEvery } from './young-gc.js';
import { serializeError, type ChunkTask, type ChunkTaskResult, type ChunkWorkerData, type SlotRef } from './chunk-worker-protocol.js';

const GC_EVERY_BYTES = 4 * 1024 * 1024;

class SlotMemory {
  private readonly arenas: SharedArrayBuffer[] = [];

  constructor(private readonly slotBytes: number) {}

  add(arena: number, memory: SharedArrayBuffer): void {
    this.arenas[arena] = memory;
  }

  view(ref: SlotRef, length = ref.length): Buffer {
    const memory = this.arenas[ref.arena];
    if (!memory) throw new Error(`unknown arena ${ref.arena}`);
    return Buffer.from(memory, ref.slot * this.slotBytes, length);
  }

  /** Writes `bytes` over the slot; returns their length. */
  fill(ref: SlotRef, bytes: Buffer, what: string): number {
    if (bytes.length > this.slotBytes) throw new CorruptDataError(what, `is ${bytes.length} bytes, more than a chunk of this job`);
    bytes.copy(this.view(ref, bytes.length));
    return bytes.length;
  }
}

type WorkTask = Exclude<ChunkTask, { op: 'arena' }>;

function run(codec: ChunkCodec, slots: SlotMemory, task: WorkTask): ChunkTaskResult {
  const data = slots.view(task);
  switch (task.op) {
    case 'describe':
      if (isZeroChunk(data)) return { id: task.id, ok: true, op: 'describe', zero: true, digest: null };
      return { id: task.id, ok: true, op: 'describe', zero: false, digest: codec.digest(data) };
    case 'encode':
      return { id: task.id, ok: true, op: 'encode', length: slots.fill(task, codec.encode(data, task.digest), 'blob') };
    case 'decode':
      return { id: task.id, ok: true, op: 'decode', length: slots.fill(task, codec.decode(data, task.digest), 'plaintext') };
  }
}

function start(): void {
  const port = parentPort;
  if (!port) throw new Error('chunk-processor-worker.ts runs only as a worker thread');
  const { keyMaterial, slotBytes } = workerData as ChunkWorkerData;
  const codec = ChunkCodec.fromMaterial(keyMaterial ? Buffer.from(keyMaterial) : null);
  const slots = new SlotMemory(slotBytes);
  const collect = youngGcEvery(GC_EVERY_BYTES);
  port.on('message', (task: ChunkTask) => {
    if (task.op === 'arena') {
      slots.add(task.arena, task.memory);
      return;
    }
    let result: ChunkTaskResult;
    try {
      result = run(codec, slots, task);
    } catch (err) {
      result = { id: task.id, ok: false, error: serializeError(err) };
    }
    port.postMessage(result);
    if (task.op !== 'describe') collect(task.length);
  });
}

start();
