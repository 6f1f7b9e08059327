/**
 * The dispatch gate: which ready, unpublished jobs go out now. A job is published only while its
 * agent and its site are under their limits, counting the jobs published and not finished
 * (queued at the worker or running); held jobs stay queued and unpublished in the catalog, and
 * go out as slots free, higher priority first, then the earlier due (schedule time, else
 * creation), then the older id. Slots free when a job finishes: `releaseSlotsOnFinish` runs a
 * publish pass on every finished job, and the scheduler runs one each tick besides.
 *
 * Limited: the agent jobs (backup, restore, snapshot), per agent and per the agent's site. A job
 * on a site's shared queue (worker `shared`, any agent may take it) counts at its site only.
 * Storage jobs (sync, verify, prune, gc, lock) pass the gate unlimited, still in priority order:
 * each storage bounds its own concurrency (its consumer's max_ack_pending), and a prune or lock
 * must not wait behind a site's backups.
 *
 * The gate only chooses; JobService publishes (and reads the catalog), so a crash anywhere leaves
 * held jobs queued and unpublished, and the next pass after a restart chooses among them again.
 */
import type { Logger } from '../../shared/log.js';
import { jobKindsOf, type JobKind } from '../../shared/messages/jobs.js';
import { isFinishedJobState, type Catalog, type JobRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';

/** The worker id of a site's shared queue (DESIGN.md §2). */
const SHARED_WORKER = 'shared';

/** The priority of a job that has none recorded (catalog default). */
const DEFAULT_PRIORITY = 50;

export interface DispatchLimits {
  /** Agent jobs published and not finished, per agent. */
  readonly maxJobsPerAgent: number;
  /** Agent jobs published and not finished, per site. */
  readonly maxJobsPerSite: number;
}

const limitedKinds: ReadonlySet<JobKind> = new Set(jobKindsOf.agent);

/** Whether the gate limits this kind of job (agent jobs). */
export function isLimitedJob(job: Pick<JobRow, 'kind'>): boolean {
  return limitedKinds.has(job.kind);
}

/** The order held jobs go out in: priority (higher first), then due time or creation, then id. */
export function dispatchOrder(a: JobRow, b: JobRow): number {
  const byPriority = (b.priority ?? DEFAULT_PRIORITY) - (a.priority ?? DEFAULT_PRIORITY);
  if (byPriority !== 0) return byPriority;
  const dueA = a.dueAt ?? a.createdAt;
  const dueB = b.dueAt ?? b.createdAt;
  if (dueA !== dueB) return dueA < dueB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class DispatchGate {
  constructor(private readonly limits: DispatchLimits) {}

  /**
   * The jobs of `ready` to publish now, in publication order, given the jobs holding slots
   * (`inFlight`). Lower-priority jobs of a free agent are not held behind a busy one's.
   */
  choose(ready: readonly JobRow[], inFlight: readonly JobRow[]): JobRow[] {
    const perAgent = new Map<string, number>();
    const perSite = new Map<string, number>();
    const take = (job: JobRow) => {
      perSite.set(job.site, (perSite.get(job.site) ?? 0) + 1);
      if (job.worker !== SHARED_WORKER) perAgent.set(agentKey(job), (perAgent.get(agentKey(job)) ?? 0) + 1);
    };
    for (const job of inFlight) if (isLimitedJob(job)) take(job);
    const chosen: JobRow[] = [];
    for (const job of [...ready].sort(dispatchOrder)) {
      if (isLimitedJob(job)) {
        if ((perSite.get(job.site) ?? 0) >= this.limits.maxJobsPerSite) continue;
        if (job.worker !== SHARED_WORKER && (perAgent.get(agentKey(job)) ?? 0) >= this.limits.maxJobsPerAgent) continue;
        take(job);
      }
      chosen.push(job);
    }
    return chosen;
  }
}

function agentKey(job: Pick<JobRow, 'site' | 'worker'>): string {
  return `${job.site}/${job.worker}`;
}

/**
 * Runs `publishPending` whenever a job finishes (its slot is free); returns the unsubscribe
 * function. A failed pass is logged and left to the next one (the scheduler's tick).
 */
export function releaseSlotsOnFinish(
  changes: JobChangeFeed,
  catalog: Pick<Catalog, 'getJob'>,
  publishPending: () => Promise<unknown>,
  log: Logger,
): () => void {
  return changes.subscribeAll((jobId) => {
    const job = catalog.getJob(jobId);
    if (!job || !isFinishedJobState(job.state)) return;
    publishPending().catch((err: unknown) => log.warn({ err, jobId }, 'dispatch pass after a finished job failed; the next tick tries again'));
  });
}
