/**
 * A young-generation GC of the calling isolate, for the data path's per-chunk buffers.
 *
 * Why: the data path allocates large short-lived buffers per chunk (zstd output, cipher slices,
 * blobs in the chunk threads; gRPC's message and frame copies on the main thread). They live
 * outside the JS heap, and V8 collects them only once about 64 MB of them have piled up in an
 * isolate; with one isolate per core plus the main one that alone would exceed the agent's
 * memory target. They die young, so a scavenge (about a millisecond) every few MiB frees them.
 * `--expose-gc` is set at run time (V8 flags are process-wide; it only makes `gc` available to
 * contexts made afterwards, here one throwaway context).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Returns a function that scavenges after every `everyBytes` reported to it. */
export function youngGcEvery(everyBytes: number): (bytes: number) => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') return () => undefined;
  const scavenge = gc as (options: { type: 'minor' }) => void;
  let pending = 0;
  return (bytes) => {
    pending += bytes;
    if (pending < everyBytes) return;
    pending = 0;
    scavenge({ type: 'minor' });
  };
}
