import type { JetStreamClient } from 'nats';
import type { Logger } from '../log.js';
import { WorkerEvent } from '../messages/events.js';
import { subjects } from '../messages/subjects.js';

const encoder = new TextEncoder();

/**
 * Publishes worker events to JetStream until the server has stored them. The event id is the
 * msgID, so a retry after a lost pub-ack is stored once (NATS-JETSTREAM.md §9.7).
 */
export class EventPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly retryForMs = 120_000,
  ) {}

  /** Resolves once the event is durable in the events stream; throws after `retryForMs`. */
  async publish(event: WorkerEvent): Promise<void> {
    const checked = WorkerEvent.parse(event);
    const subject = subjects.event(checked.site, checked.worker, checked.type);
    const data = encoder.encode(JSON.stringify(checked));
    const deadline = Date.now() + this.retryForMs;
    let delayMs = 200;
    for (;;) {
      try {
        await this.js.publish(subject, data, { msgID: checked.eventId, timeout: 5000 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.log.warn({ err, eventId: checked.eventId, type: checked.type }, 'event publish failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 2000);
      }
    }
  }
}
