/**
 * Jobs that run out of deliveries. A worker's durable redelivers a job it was given and never
 * acked (the worker died, or hung without `working()`) up to its `max_deliver`; when a worker
 * pulls after the last one's ack wait, JetStream gives the message up and publishes a
 * MAX_DELIVERIES advisory (core NATS) naming its stream sequence. Without this, such a job would stay `running` (or `queued`) in the catalog forever,
 * holding its dispatch slot. On the advisory the controller reads the job message at that
 * sequence, records the job failed (JobService.failUndelivered: the retry rule may queue its next
 * attempt), and deletes the message from the work queue, which would otherwise keep it.
 *
 * An advisory is not stored: one published while the controller is down is missed, and the job
 * stays as it was (docs/OPERATORS.md "Dispatch"). `bulwark cancel` ends such a job.
 */
import type { JetStreamManager, NatsConnection, Subscription } from 'nats';
import { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import { JobMessage } from '../../shared/messages/jobs.js';
import { JOBS_STREAM } from '../../shared/messages/subjects.js';

/** The advisories of every consumer of the jobs stream. */
export const MAX_DELIVERIES_ADVISORIES = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${JOBS_STREAM}.*`;

/** io.nats.jetstream.advisory.v1.max_deliver, the fields used. */
const MaxDeliveriesAdvisory = z.object({
  stream: z.string(),
  consumer: z.string(),
  stream_seq: z.number().int().positive(),
  deliveries: z.number().int().nonnegative(),
});

/** What the watcher needs of the jobs domain (JobService). */
export interface UndeliveredJobs {
  failUndelivered(jobId: string, attempt: number, deliveries: number): boolean;
}

export class UndeliveredJobWatcher {
  private sub: Subscription | undefined;
  private readonly handling = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jobs: UndeliveredJobs,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    this.sub = this.nc.subscribe(MAX_DELIVERIES_ADVISORIES, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err }, 'max-deliveries advisory subscription error');
          return;
        }
        const parsed = MaxDeliveriesAdvisory.safeParse(safeJson(msg.data));
        if (!parsed.success) {
          this.log.warn({ subject: msg.subject, issue: parsed.error.issues[0]?.message }, 'invalid max-deliveries advisory ignored');
          return;
        }
        const done = this.handle(jsm, parsed.data).finally(() => this.handling.delete(done));
        this.handling.add(done);
      },
    });
  }

  /** Stops listening and waits for the advisories in hand. */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    await Promise.all([...this.handling]);
  }

  private async handle(jsm: JetStreamManager, advisory: z.infer<typeof MaxDeliveriesAdvisory>): Promise<void> {
    const seq = advisory.stream_seq;
    const log = this.log.child({ consumer: advisory.consumer, seq, deliveries: advisory.deliveries });
    let job: JobMessage;
    try {
      const stored = await jsm.streams.getMessage(JOBS_STREAM, { seq });
      job = JobMessage.parse(stored.json());
    } catch (err) {
      // Acked or deleted meanwhile (a late result), or not a job: nothing is stuck.
      log.info({ err }, 'max-deliveries advisory for a message no longer in the jobs stream ignored');
      return;
    }
    const failed = this.jobs.failUndelivered(job.jobId, job.attempt, advisory.deliveries);
    log.info({ jobId: job.jobId, attempt: job.attempt, failed }, 'job message out of deliveries');
    try {
      await jsm.streams.deleteMessage(JOBS_STREAM, seq);
    } catch (err) {
      log.warn({ err }, 'could not delete the undeliverable job message; the work queue keeps it');
    }
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as unknown;
  } catch {
    return undefined;
  }
}
