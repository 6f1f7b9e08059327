/**
 * A thread of WorkerChunkProcessor: runs ChunkCodec on the chunks it is sent, one at a time, with
 * the key material it was started with, and moves the bytes back (chunk-worker-protocol.ts).
 *
 * Memory: the per-chunk buffers made here die young; the thread scavenges every few MiB
 * (young-gc.ts) instead of letting V8 pile up 64 MB of them.
 */
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { isZeroChunk } from '../../shared/format/chunk-digest.js';
import { youngGcEvery } from './young-gc.js';
import { serializeError, transferableOf, type ChunkTask, type ChunkTaskResult, type ChunkWorkerData } from './chunk-worker-protocol.js';

function run(codec: ChunkCodec, task: ChunkTask): { result: ChunkTaskResult; transfer: TransferListItem[] } {
  switch (task.op) {
    case 'describe': {
      const data = new Uint8Array(task.data);
      if (isZeroChunk(data)) return { result: { id: task.id, ok: true, op: 'describe', zero: true, digest: null, data: task.data }, transfer: [task.data] };
      const digest = transferableOf(codec.digest(data));
      return { result: { id: task.id, ok: true, op: 'describe', zero: false, digest, data: task.data }, transfer: [task.data, digest] };
    }
    case 'encode': {
      const blob = transferableOf(codec.encode(new Uint8Array(task.data), new Uint8Array(task.digest)));
      return { result: { id: task.id, ok: true, op: 'encode', blob, data: task.data }, transfer: [blob, task.data] };
    }
    case 'decode': {
      const plaintext = transferableOf(codec.decode(new Uint8Array(task.blob), new Uint8Array(task.digest)));
      return { result: { id: task.id, ok: true, op: 'decode', plaintext }, transfer: [plaintext] };
    }
  }
}

const GC_EVERY_BYTES = 4 * 1024 * 1024;

function start(): void {
  const port = parentPort;
  if (!port) throw new Error('chunk-processor-worker.ts runs only as a worker thread');
  const { keyMaterial } = workerData as ChunkWorkerData;
  const codec = ChunkCodec.fromMaterial(keyMaterial ? Buffer.from(keyMaterial) : null);
  const collect = youngGcEvery(GC_EVERY_BYTES);
  port.on('message', (task: ChunkTask) => {
    // Measured before the reply moves the buffers away.
    const bytes = task.op === 'encode' ? task.data.byteLength : task.op === 'decode' ? task.blob.byteLength : 0;
    let reply: { result: ChunkTaskResult; transfer: TransferListItem[] };
    try {
      reply = run(codec, task);
    } catch (err) {
      reply = { result: { id: task.id, ok: false, error: serializeError(err) }, transfer: [] };
    }
    port.postMessage(reply.result, reply.transfer);
    collect(bytes);
  });
}

start();
