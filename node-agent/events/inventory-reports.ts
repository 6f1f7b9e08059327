/**
 * An agent's inventory reports: one at start, and one whenever a controller asks on core NATS
 * (`bulwark.inventory.request`: a controller whose catalog was lost and rebuilt). Shared by the
 * agent process and the simulated agents of the scale bench.
 */
import type { NatsConnection } from 'nats';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import type { VmInventory } from '../../shared/messages/events.js';
import { subjects } from '../../shared/messages/subjects.js';
import type { EventPublisher } from '../../shared/nats/event-publisher.js';

export interface InventoryReportsOptions {
  readonly nc: NatsConnection;
  readonly publisher: EventPublisher;
  readonly site: string;
  readonly worker: string;
  readonly clock: Clock;
  /** The VMs as the agent reports them now. */
  readonly inventory: () => Promise<VmInventory[]>;
  readonly log: Logger;
}

/** Reports the inventory now (returning it), then on each request until `stop`. */
export async function startInventoryReports(opts: InventoryReportsOptions): Promise<{ vms: VmInventory[]; stop: () => void }> {
  const { nc, publisher, site, worker, clock, log } = opts;
  const report = async () => {
    const vms = await opts.inventory();
    await publisher.publish({ eventId: newId(), site, worker, at: clock.nowIso(), type: 'inventory', vms });
    return vms;
  };
  const vms = await report();
  const requests = nc.subscribe(subjects.inventoryRequest, {
    callback: () => {
      report().catch((err: unknown) => log.warn({ err }, 'inventory report failed'));
    },
  });
  return { vms, stop: () => requests.unsubscribe() };
}
