import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../../shared/log.js';
import { decodeHeartbeat } from '../../shared/messages/events.js';
import { subjects } from '../../shared/messages/subjects.js';
import type { WorkerMonitor } from '../jobs/worker-monitor.js';

/**
 * Feeds core-NATS heartbeats to the WorkerMonitor and runs its offline sweep every interval.
 * Heartbeats are fire-and-forget: a lost one only matters after several in a row.
 */
export class HeartbeatSubscriber {
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly monitor: WorkerMonitor,
    private readonly log: Logger,
    private readonly sweepIntervalMs: number,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(subjects.allHeartbeats, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err }, 'heartbeat subscription error');
          return;
        }
        const decoded = decodeHeartbeat(msg.data);
        if ('problem' in decoded) {
          this.log.warn({ subject: msg.subject, issue: decoded.problem }, 'invalid heartbeat ignored');
          return;
        }
        try {
          this.monitor.recordHeartbeat(decoded.heartbeat);
        } catch (e) {
          this.log.error({ err: e }, 'recording heartbeat failed');
        }
      },
    });
    this.timer = setInterval(() => {
      try {
        this.monitor.sweep();
      } catch (err) {
        this.log.error({ err }, 'worker sweep failed');
      }
    }, this.sweepIntervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sub?.unsubscribe();
  }
}
