import type { NatsConnection } from 'nats';
import type { Clock } from '../clock.js';
import { Heartbeat } from '../messages/events.js';
import { subjects } from '../messages/subjects.js';

/** Publishes a worker's heartbeat on core NATS every `intervalMs` (lost beats are fine). */
export class HeartbeatSender {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly clock: Clock,
    private readonly describe: () => Omit<Heartbeat, 'at'>,
    private readonly intervalMs = 2000,
  ) {}

  /** Sends one beat now, then every interval. */
  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private beat(): void {
    const hb = Heartbeat.parse({ ...this.describe(), at: this.clock.nowIso() });
    if (!this.nc.isClosed()) this.nc.publish(subjects.heartbeat(hb.site, hb.worker), JSON.stringify(hb));
  }
}
