/**
 * Every NATS name Bulwark uses, in one place for all code (DESIGN.md §2).
 * Site and worker ids match ^[a-z0-9-]+$, so they are safe as subject tokens and durable names.
 */
export const JOBS_STREAM = 'BULWARK_JOBS';
export const EVENTS_STREAM = 'BULWARK_EVENTS';
export const CONTROLLER_EVENTS_DURABLE = 'controller';
/** The reserved worker id of a site's shared queue. */
export const SHARED_WORKER = 'shared';

export const subjects = {
  /** Jobs for one worker (work queue). */
  jobs: (site: string, worker: string): string => `bulwark.jobs.${site}.${worker}`,
  /** Every job subject, the stream's filter. */
  allJobs: 'bulwark.jobs.>',
  /** An event from a worker. */
  event: (site: string, worker: string, kind: string): string => `bulwark.events.${site}.${worker}.${kind}`,
  allEvents: 'bulwark.events.>',
  /** Core-NATS heartbeat of a worker. */
  heartbeat: (site: string, worker: string): string => `bulwark.hb.${site}.${worker}`,
  allHeartbeats: 'bulwark.hb.>',
  /** Core NATS: "report your inventory again" to every agent (a controller whose catalog was rebuilt asks at start). */
  inventoryRequest: 'bulwark.inventory.request',
  /** Core-NATS cancel requests to a worker. */
  cancel: (site: string, worker: string): string => `bulwark.cancel.${site}.${worker}`,
  /** Core NATS request-reply: a starting worker asks the controller for its pending cancel requests. */
  pendingCancels: 'bulwark.cancels.pending',
} as const;

/** The durable consumer name of a worker's own job subject ('.' is not allowed in durables). */
export function workerDurable(site: string, worker: string): string {
  return `${site}_${worker}`;
}
