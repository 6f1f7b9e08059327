import type { JetStreamClient } from 'nats';
import type { Logger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { subjects } from '../../shared/messages/subjects.js';
import type { JobPublisher } from '../jobs/job-publisher.js';

const encoder = new TextEncoder();

/**
 * Publishes jobs to the BULWARK_JOBS work queue. The msgID `<jobId>-<attempt>` makes every retry
 * (after a lost pub-ack, a server restart, a leader failover, or a controller restart that
 * republishes unconfirmed jobs) store the job once (NATS-JETSTREAM.md §2, §9.7, §9.12).
 */
export class JetStreamJobPublisher implements JobPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly retryForMs = 30_000,
  ) {}

  /** `job` is sent as given: the controller checks a job as this message when it makes it. */
  async publish(site: string, worker: string, job: JobMessage): Promise<void> {
    const data = encoder.encode(JSON.stringify(job));
    const msgID = `${job.jobId}-${job.attempt}`;
    const deadline = Date.now() + this.retryForMs;
    let delayMs = 200;
    for (;;) {
      try {
        const ack = await this.js.publish(subjects.jobs(site, worker), data, { msgID, timeout: 5000 });
        this.log.debug({ jobId: job.jobId, seq: ack.seq, duplicate: ack.duplicate }, 'job published');
        return;
      } catch (err) {
        if (Date.now() + delayMs > deadline) throw err;
        this.log.warn({ err, jobId: job.jobId }, 'job publish failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 2000);
      }
    }
  }
}
