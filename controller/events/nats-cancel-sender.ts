/**
 * Cancel requests over core NATS: one JSON CancelRequest on `bulwark.cancel.<site>.<worker>`.
 * Nothing is stored: a worker that is away misses it, so the controller re-sends (job-cancel.ts)
 * and answers a starting worker's request for its pending cancels (`bulwark.cancels.pending`).
 */
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../../shared/log.js';
import { PendingCancelsRequest, type CancelRequest } from '../../shared/messages/jobs.js';
import { subjects } from '../../shared/messages/subjects.js';
import type { CancelSender } from '../jobs/job-cancel.js';

export class NatsCancelSender implements CancelSender {
  constructor(private readonly nc: NatsConnection) {}

  send(site: string, worker: string, request: CancelRequest): void {
    this.nc.publish(subjects.cancel(site, worker), JSON.stringify(request));
  }

  /** Answers each worker's request for its pending cancels with `pendingFor(site, worker)`. */
  answerPendingRequests(pendingFor: (site: string, worker: string) => CancelRequest[], log: Logger): Subscription {
    return this.nc.subscribe(subjects.pendingCancels, {
      callback: (_err, msg) => {
        try {
          const { site, worker } = PendingCancelsRequest.parse(msg.json());
          msg.respond(JSON.stringify(pendingFor(site, worker)));
        } catch (err) {
          log.warn({ err }, 'pending-cancels request not answered');
        }
      },
    });
  }
}
