/**
 * Worker liveness from heartbeats: each beat marks its worker online with the controller's own
 * time (worker clocks may be off); a sweep marks workers offline once they missed
 * `offlineAfterMissedBeats` beats.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Heartbeat } from '../../shared/messages/events.js';
import type { Catalog, WorkerRow } from '../catalog/catalog.js';

export interface WorkerMonitorOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly log: Logger;
  readonly heartbeatIntervalMs: number;
  readonly offlineAfterMissedBeats: number;
}

export class WorkerMonitor {
  private readonly seenOnline = new Set<string>();

  constructor(private readonly opts: WorkerMonitorOptions) {}

  /** Records one heartbeat. */
  recordHeartbeat(hb: Heartbeat): void {
    const key = `${hb.site}/${hb.worker}`;
    this.opts.catalog.upsertWorker({
      site: hb.site,
      id: hb.worker,
      kind: hb.kind,
      state: 'online',
      lastSeenAt: this.opts.clock.nowIso(),
      address: hb.address,
      version: hb.version,
    });
    if (!this.seenOnline.has(key)) {
      this.seenOnline.add(key);
      this.opts.log.info({ site: hb.site, worker: hb.worker, kind: hb.kind, address: hb.address }, 'worker online');
    }
  }

  /** Marks workers that missed too many beats offline; returns them. */
  sweep(): WorkerRow[] {
    const { clock, heartbeatIntervalMs, offlineAfterMissedBeats } = this.opts;
    const cutoff = new Date(clock.nowMs() - heartbeatIntervalMs * offlineAfterMissedBeats).toISOString();
    const gone = this.opts.catalog.markWorkersOffline(cutoff);
    for (const w of gone) {
      this.seenOnline.delete(`${w.site}/${w.id}`);
      this.opts.log.warn({ site: w.site, worker: w.id, kind: w.kind, lastSeenAt: w.lastSeenAt }, 'worker offline');
    }
    return gone;
  }
}
