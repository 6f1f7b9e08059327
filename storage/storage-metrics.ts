/**
 * The storage daemon's Prometheus metrics. Each number is taken where it is already known:
 * job results (sync, verify, gc) through the wrapped job handler, chunk traffic from PutChunks
 * and GetChunks (ChunkTraffic), repairs from the repair journal and scrub's bytes from its
 * token bucket (RepairMetrics), and the chunk store's size from a walk in the background every
 * `chunkStoreRefreshMs` (a walk per scrape would be far too slow on a large store).
 */
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { WorkerJobMetrics } from '../shared/metrics/worker-job-metrics.js';
import type { ChunkTraffic } from './api/blockstore-service.js';
import { measureChunkStore } from './datastore/chunk-store-usage.js';
import type { RepairMetrics } from './repair-runtime.js';

export interface StorageMetrics {
  readonly jobs: WorkerJobMetrics;
  readonly traffic: ChunkTraffic;
  readonly repair: RepairMetrics;
  /** Measures the chunk store now and then every `intervalMs`; returns the stop function. */
  watchChunkStore(datastoreDir: string, intervalMs: number, log: Logger): () => Promise<void>;
}

/** Registers the storage daemon's metrics in `registry`. */
export function createStorageMetrics(registry: Registry, clock: Clock): StorageMetrics {
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });

  const received = counter('bulwark_storage_chunk_bytes_received_total', 'Chunk blob bytes received on PutChunks (backups and push syncs), stored before or not.');
  const written = counter('bulwark_storage_chunks_written_total', 'Chunks PutChunks stored that were not stored before.');
  const writtenBytes = counter('bulwark_storage_chunk_bytes_written_total', 'Bytes of the chunks PutChunks stored that were not stored before.');
  const sent = counter('bulwark_storage_chunk_bytes_sent_total', 'Chunk blob bytes sent on GetChunks (restores, pull syncs of other sites, repairs of other sites).');
  const chunksSent = counter('bulwark_storage_chunks_sent_total', 'Chunks sent on GetChunks.');
  const repairs = counter('bulwark_storage_repairs_total', 'Repairs recorded by this storage, by damaged object (chunk, index, manifest) and trigger (read, verify, scrub, sync, startup).', ['object', 'trigger']);
  const repairedBytes = counter('bulwark_storage_repaired_bytes_total', 'Bytes of the good copies repairs wrote.');
  const scrubBytes = counter('bulwark_storage_scrub_bytes_checked_total', 'Chunk bytes the background scrub read and checked.');
  const syncBytes = counter('bulwark_storage_sync_bytes_copied_total', 'Chunk bytes sync jobs run here copied between sites.');
  const syncChunks = counter('bulwark_storage_sync_chunks_copied_total', 'Chunks sync jobs run here copied between sites.');
  const syncBackups = counter('bulwark_storage_sync_backups_copied_total', 'Backups sync jobs run here made present at the replica.');
  const verifyBytes = counter('bulwark_storage_verify_bytes_checked_total', 'Chunk bytes verify jobs read and checked.');
  const gcBytes = counter('bulwark_storage_gc_bytes_reclaimed_total', 'Bytes garbage collection removed (not on a dry run).');
  const storeBytes = gauge('bulwark_storage_chunk_store_bytes', 'Bytes of the chunk files in the chunk store, as of the last measurement.');
  const storeChunks = gauge('bulwark_storage_chunk_store_chunks', 'Chunks in the chunk store, as of the last measurement.');
  const measuredAt = gauge('bulwark_storage_chunk_store_measured_timestamp_seconds', 'When the chunk store was last measured (Unix time); 0: not yet.');

  const jobs = new WorkerJobMetrics(registry, clock, (outcome) => {
    if (outcome.kind === 'sync') {
      syncBytes.inc(outcome.result.bytesCopied);
      syncChunks.inc(outcome.result.chunksCopied);
      syncBackups.inc(outcome.result.copied.length);
    } else if (outcome.kind === 'verify') {
      verifyBytes.inc(outcome.result.bytesChecked);
    } else if (outcome.kind === 'gc' && !outcome.result.dryRun) {
      gcBytes.inc(outcome.result.bytesReclaimed);
    }
  });

  return {
    jobs,
    traffic: {
      received: (bytes) => received.inc(bytes),
      written: (chunks, bytes) => {
        written.inc(chunks);
        writtenBytes.inc(bytes);
      },
      sent: (bytes) => {
        sent.inc(bytes);
        chunksSent.inc();
      },
    },
    repair: {
      repairRecorded: (record) => {
        repairs.inc({ object: record.object, trigger: record.trigger });
        repairedBytes.inc(record.bytes);
      },
      scrubBytesChecked: (bytes) => scrubBytes.inc(bytes),
    },
    watchChunkStore: (datastoreDir, intervalMs, log) => {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> = Promise.resolve();
      const measure = async () => {
        try {
          const usage = await measureChunkStore(join(datastoreDir, 'chunks'));
          storeBytes.set(usage.bytes);
          storeChunks.set(usage.chunks);
          measuredAt.set(clock.nowMs() / 1000);
        } catch (err) {
          log.warn({ err }, 'measuring the chunk store failed');
        }
        // The next walk starts an interval after this one ended: walks never overlap.
        if (!stopped) {
          timer = setTimeout(() => {
            running = measure();
          }, intervalMs).unref();
        }
      };
      running = measure();
      return async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await running;
      };
    },
  };
}
