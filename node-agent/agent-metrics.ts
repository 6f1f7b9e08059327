/**
 * The agent's Prometheus metrics: jobs by kind and outcome with their durations (the worker's
 * handler wrapped once, shared/metrics/worker-job-metrics.ts), and the bytes each backup read
 * and sent and each restore wrote, counted from the job results.
 */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import { WorkerJobMetrics } from '../shared/metrics/worker-job-metrics.js';

/** Registers the agent's metrics in `registry`; `jobs.wrap` instruments the job handler. */
export function createAgentMetrics(registry: Registry, clock: Clock): { jobs: WorkerJobMetrics } {
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  const backups = counter('bulwark_agent_backups_committed_total', 'Backups this agent committed (a redelivered attempt that found its backup committed is not counted).');
  const bytesRead = counter('bulwark_agent_backup_bytes_read_total', 'Bytes of disk data read by backups (changed blocks only for an incremental).');
  const bytesSent = counter('bulwark_agent_backup_bytes_sent_total', 'Bytes of chunk blobs backups sent to storage (compressed, encrypted; chunks storage lacked).');
  const chunksSent = counter('bulwark_agent_backup_chunks_sent_total', 'Chunks backups sent to storage.');
  const restoredBytes = counter('bulwark_agent_restore_bytes_written_total', 'Bytes restores wrote to their target disks.');
  const jobs = new WorkerJobMetrics(registry, clock, (outcome) => {
    if (outcome.kind === 'backup') {
      const r = outcome.result;
      if (!r.alreadyCommitted) backups.inc();
      bytesRead.inc(r.bytesRead);
      bytesSent.inc(r.bytesSent);
      chunksSent.inc(r.chunksSent);
    } else if (outcome.kind === 'restore') {
      restoredBytes.inc(outcome.result.bytesWritten);
    }
  });
  return { jobs };
}
