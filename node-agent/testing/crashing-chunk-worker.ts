/** A chunk worker thread that throws on its first task: the failure path of WorkerChunkProcessor in tests. */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => {
  throw new Error('chunk worker blew up');
});
