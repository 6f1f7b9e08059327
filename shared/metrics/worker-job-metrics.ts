/**
 * Job metrics of a worker (agent or storage), taken at one place: a wrapper around the worker's
 * job handler. It counts jobs by kind and outcome, times them, and hands each result to
 * `onResult`, where the process counts what the result carries (bytes read, sent, copied, ...):
 * the domain code that produced the numbers stays free of metrics.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { JobResult } from '../messages/events.js';
import type { JobHandler } from '../nats/job-worker.js';

/** Bucket bounds (seconds) for job durations: a second to half a day. */
export const JOB_DURATION_BUCKETS_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600];

/** How a job run ended at this worker. `interrupted`: the worker stopped; the job goes to another attempt. */
export type WorkerJobOutcome = 'succeeded' | 'failed' | 'interrupted';

export class WorkerJobMetrics {
  private readonly jobs: Counter<'kind' | 'outcome'>;
  private readonly durations: Histogram<'kind' | 'outcome'>;

  constructor(
    registry: Registry,
    private readonly clock: Clock,
    private readonly onResult: (result: JobResult) => void = () => undefined,
  ) {
    this.jobs = new Counter({
      name: 'bulwark_worker_jobs_total',
      help: 'Jobs this worker ran to an end, by kind and outcome (succeeded, failed, interrupted: the worker stopped mid-job).',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'bulwark_worker_job_duration_seconds',
      help: 'Wall time of the jobs this worker ran, from receipt to result, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: JOB_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  /** The same handler, counted and timed. */
  wrap(handler: JobHandler): JobHandler {
    return async (job, ctx) => {
      const startedMs = this.clock.nowMs();
      const end = (outcome: WorkerJobOutcome) => {
        const labels = { kind: job.kind, outcome };
        this.jobs.inc(labels);
        this.durations.observe(labels, Math.max(0, this.clock.nowMs() - startedMs) / 1000);
      };
      let result: JobResult;
      try {
        result = await handler(job, ctx);
      } catch (err) {
        end(ctx.signal.aborted ? 'interrupted' : 'failed');
        throw err;
      }
      end('succeeded');
      this.onResult(result);
      return result;
    };
  }
}
