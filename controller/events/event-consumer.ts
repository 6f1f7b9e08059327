/**
 * The controller's durable consumer on BULWARK_EVENTS. Each event is parsed, applied to the
 * catalog synchronously (SQLite commit), and only then acked: a crash before the ack redelivers
 * the event after ack_wait, out of order, and the applier's idempotency makes that harmless
 * (NATS-JETSTREAM.md §3). Invalid messages are logged and terminated, never retried.
 */
import {
  AckPolicy,
  ConsumerEvents,
  DeliverPolicy,
  nanos,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { ensureStreams } from '../../shared/nats/streams.js';
import type { Logger } from '../../shared/log.js';
import { WorkerEvent } from '../../shared/messages/events.js';
import { CONTROLLER_EVENTS_DURABLE, EVENTS_STREAM, subjects } from '../../shared/messages/subjects.js';
import type { EventApplier } from '../jobs/event-applier.js';

export interface EventConsumerOptions {
  readonly nc: NatsConnection;
  readonly applier: EventApplier;
  readonly log: Logger;
  readonly ackWaitMs?: number;
}

export class EventConsumer {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: EventConsumerOptions) {}

  /** Ensures the streams and the durable consumer, then starts consuming. */
  async start(): Promise<void> {
    await this.ensure();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.loop;
  }

  private async ensure(): Promise<void> {
    const jsm = await this.opts.nc.jetstreamManager();
    await ensureStreams(jsm);
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: CONTROLLER_EVENTS_DURABLE,
      filter_subject: subjects.allEvents,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.opts.ackWaitMs ?? 30_000),
      max_ack_pending: 20_000,
    });
  }

  private async run(): Promise<void> {
    const { nc, log } = this.opts;
    const js = nc.jetstream();
    while (!this.stopped) {
      try {
        const consumer = await js.consumers.get(EVENTS_STREAM, CONTROLLER_EVENTS_DURABLE);
        const messages = await consumer.consume({ max_messages: 500 });
        this.messages = messages;
        void this.watchStatus(messages);
        if (this.stopped) await messages.close();
        for await (const m of messages) this.handle(m);
      } catch (err) {
        if (this.stopped) break;
        log.warn({ err }, 'event consumer failed; re-ensuring stream and consumer');
      }
      if (this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await this.ensure().catch((err: unknown) => log.warn({ err }, 'ensure event consumer failed'));
    }
  }

  /** A server that lost its store: re-create the stream and consumer, then consume() resumes. */
  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of await messages.status()) {
        if (status.type === ConsumerEvents.StreamNotFound || status.type === ConsumerEvents.ConsumerNotFound) {
          this.opts.log.warn({ status: status.type }, 'events stream or consumer missing; re-creating');
          await this.ensure().catch((err: unknown) => this.opts.log.warn({ err }, 'ensure event consumer failed'));
        }
      }
    } catch (err) {
      this.opts.log.debug({ err }, 'consumer status stream ended');
    }
  }

  private handle(m: JsMsg): void {
    const { log, applier } = this.opts;
    let event: WorkerEvent;
    try {
      event = WorkerEvent.parse(m.json());
    } catch (err) {
      log.error({ err, subject: m.subject, seq: m.seq }, 'invalid event terminated');
      m.term();
      return;
    }
    try {
      const applied = applier.apply(event);
      log.debug({ eventId: event.eventId, type: event.type, applied }, 'event applied');
    } catch (err) {
      // Not acked: it comes back after a short delay, and again after each failure.
      log.error({ err, eventId: event.eventId, type: event.type }, 'applying event failed');
      m.nak(5000);
      return;
    }
    m.ack();
  }
}
