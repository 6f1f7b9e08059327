/**
 * The policy scheduler: turns policies into jobs (DESIGN.md §8).
 *
 * - Due times. Each enabled policy is due at every time one of its cron expressions names, in
 *   the policy's time zone (croner). At a due time it makes one backup job per covered VM
 *   (controller/policies/coverage.ts), carrying the policy's name, priority, mode, consistency,
 *   storage site, retry count and the schedule time (`dueAt`); a snapshot policy (`action:
 *   'snapshot'`) makes a snapshot create job instead, keeping the policy's `snapshotKeep` newest.
 *   Coalesced: no job for a VM that still has a queued or running job of that kind of the same
 *   policy. Every policy due in a round is fired together: one inventory read, the jobs inserted
 *   in one catalog transaction (JobService.startBatch), then one publish pass, so a due second's
 *   jobs reach the workers within milliseconds of their dueAt.
 * - Ahead and spread. With `prepareLeadMs`, a due time's jobs are made that long before it and
 *   held (`notBefore` = dueAt), so the due instant only publishes them. With a policy's
 *   `schedule.spreadMs`, each VM is due at its own fixed offset after the schedule time
 *   (spreadOffsetMs) and its job is held until then. Held jobs go out from a release timer armed
 *   at the earliest `notBefore` (a query and a publish pass, not a round).
 * - State. The newest schedule time each policy fired for is kept in the catalog
 *   (`policy_runs`), written after its jobs; a job row carries (policy, vm, dueAt), and a VM that
 *   already has a job for a schedule time gets no second one. So a crash mid-fire fires the rest
 *   on restart and nothing twice. After downtime, the missed ticks make one catch-up job per VM
 *   (due at the newest missed tick), not one per tick. Counting starts at the newest of: the
 *   last fired time, the policy's creation, its last edit (an edit never fires a "missed" run of
 *   its new schedule).
 * - Changes. Policies are re-read from the catalog every `tickMs` (and at each due time), so a
 *   policy created, edited, disabled or deleted is picked up within a tick, without a
 *   notification path between the API and the scheduler.
 * - Windows. A job due outside its policy's start window waits unpublished until the window
 *   opens (`notBefore`); one still unpublished when the window ends (`startBy`) is marked
 *   skipped with the reason. A window's times are HH:MM in the policy's zone; an end before the
 *   start spans midnight. A job the gate has published before the end is left to run.
 * - After a backup. (Snapshot policies have no follow-ups.) A policy backup that succeeded is followed by a prune of its VM with the
 *   policy's retention at the storage site, and a sync from the storage site to each replica
 *   site; a policy sync that succeeded is followed by a prune, at the replica, of each covered VM
 *   it holds copies of. Coalesced: no sync of a pair while one is queued and not started, no prune
 *   of a VM at a site while the policy's prune of it there is (a running one may have listed the
 *   backups before this one, so another follows it). A crash before a follow-up is made loses
 *   it; the next backup's follow-ups do the same work.
 *
 * Time comes from the Clock and waiting from a Timer, so tests drive both.
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Policy, StartWindow } from '../../shared/messages/policy.js';
import type { Catalog, JobRow, PolicyRow, VmRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';
import { syncPairOfJob, type BatchRequest, type PruneRequest, type SyncRequest } from '../jobs/job-service.js';
import type { Timer } from '../jobs/replication-scheduler.js';
import { vmsCoveredBy } from './coverage.js';

/** What the scheduler needs of the jobs domain (JobService). */
export interface PolicyJobStarter {
  /** A due time's jobs: one catalog transaction, one publish pass; an error in place of each job that could not be made. */
  startBatch(reqs: readonly BatchRequest[]): Promise<(JobRow | Error)[]>;
  startPrune(req: PruneRequest): Promise<JobRow>;
  startSync(req: SyncRequest): Promise<JobRow>;
  /** A dispatch pass: publishes the ready jobs the gate lets through. */
  publishPending(): Promise<number>;
  /** Whether a dispatch pass has sent the job and not yet recorded it published. */
  isPublishing(jobId: string): boolean;
}

export interface PolicySchedulerOptions {
  readonly catalog: Catalog;
  readonly jobs: PolicyJobStarter;
  readonly changes: JobChangeFeed;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly log: Logger;
  /** How often policies are re-read, closed windows skipped and a dispatch pass run. */
  readonly tickMs: number;
  /**
   * Jobs are made this long before their due time and held unpublished until it (`notBefore` =
   * dueAt), so at the due instant the scheduler only publishes them; 0 (default): made at the due
   * time. Config `scheduler.prepareLeadMs`.
   */
  readonly prepareLeadMs?: number;
}

/** How many succeeded jobs are remembered as followed up (a notification may repeat). */
const FOLLOWED_UP_MEMORY = 10_000;
/** How many unfinished sync jobs are searched for one of the same pair. */
const SYNC_SEARCH_LIMIT = 1000;

/** Parsed cron expressions by zone and text: a round looks at every policy, parsing each time cost milliseconds. */
const cronCache = new Map<string, Cron>();
const CRON_CACHE_LIMIT = 10_000;

/** What the due-time functions read of a policy. */
type Scheduled = { readonly schedule: Pick<Policy['schedule'], 'cron' | 'timezone'> };

function cachedCron(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let cron = cronCache.get(key);
  if (cron === undefined) {
    if (cronCache.size >= CRON_CACHE_LIMIT) cronCache.clear();
    cron = new Cron(expr, { timezone, paused: true });
    cronCache.set(key, cron);
  }
  return cron;
}

function cronsOf(policy: Scheduled): Cron[] {
  const { timezone } = policy.schedule;
  return policy.schedule.cron.map((expr) => cachedCron(expr, timezone));
}

/** The earliest schedule time of the policy strictly after `afterMs`; undefined: none (ever). */
export function nextDueMs(policy: Scheduled, afterMs: number): number | undefined {
  let next: number | undefined;
  for (const cron of cronsOf(policy)) {
    const at = cron.nextRun(new Date(afterMs))?.getTime();
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}

/** The newest schedule time of the policy in (afterMs, nowMs]; undefined: none fell due. */
export function latestDueMs(policy: Scheduled, afterMs: number, nowMs: number): number | undefined {
  let latest: number | undefined;
  for (const cron of cronsOf(policy)) {
    const first = cron.nextRun(new Date(afterMs))?.getTime();
    if (first === undefined || first > nowMs) continue;
    // previousRuns excludes a run exactly at its reference: look from just after now.
    const newest = Math.max(first, cron.previousRuns(1, new Date(nowMs + 1))[0]?.getTime() ?? first);
    if (latest === undefined || newest > latest) latest = newest;
  }
  return latest;
}

/**
 * A VM's offset in [0, spreadMs) from its policy's schedule time: the same for the same policy and
 * VM at every run, spread evenly over VMs (the first 32 bits of SHA-256 of the two names).
 */
export function spreadOffsetMs(policy: string, vm: string, spreadMs: number): number {
  if (spreadMs <= 0) return 0;
  const hash = createHash('sha256').update(policy).update('\u0000').update(vm).digest();
  return Math.floor((hash.readUInt32BE(0) / 2 ** 32) * spreadMs);
}

/** Where a job due at `atMs` may start: from `notBeforeMs` (absent: now) until `startByMs`. */
export interface WindowPlacement {
  readonly notBeforeMs?: number;
  readonly startByMs: number;
}

/**
 * The start window a job due at `atMs` falls in: the one open at that time (it may start at
 * once, until the window ends), else the next one to open. Start inclusive, end exclusive.
 */
export function placeInWindow(window: StartWindow, timezone: string, atMs: number): WindowPlacement {
  const daily = (hhmm: string) => {
    const [h, m] = hhmm.split(':');
    return cachedCron(`${Number(m)} ${Number(h)} * * *`, timezone);
  };
  const opens = daily(window.start);
  const closes = daily(window.end);
  const lastOpen = opens.previousRuns(1, new Date(atMs + 1))[0]?.getTime();
  const lastClose = closes.previousRuns(1, new Date(atMs + 1))[0]?.getTime();
  const open = lastOpen !== undefined && (lastClose === undefined || lastOpen > lastClose);
  const endAfter = (ms: number) => closes.nextRun(new Date(ms))?.getTime() ?? ms;
  if (open) return { startByMs: endAfter(atMs) };
  // Every day has both times, so the next opening exists.
  const notBeforeMs = opens.nextRun(new Date(atMs))?.getTime() ?? atMs;
  return { notBeforeMs, startByMs: endAfter(notBeforeMs) };
}

export class PolicyScheduler {
  private cancel: (() => void) | undefined;
  /** The held-job release timer and the notBefore it is armed for. */
  private cancelRelease: (() => void) | undefined;
  private releaseAtMs: number | undefined;
  private releasing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly followUps = new Set<Promise<void>>();
  private readonly followedUp = new Set<string>();
  private stopped = true;

  constructor(private readonly opts: PolicySchedulerOptions) {}

  /** Runs a first round now (catch-up after downtime), then at each due time and tick. */
  start(): void {
    this.stopped = false;
    this.unsubscribe = this.opts.changes.subscribeAll((jobId) => this.onJobChange(jobId));
    this.arm(0);
  }

  /** Cancels the timer and waits for the round and follow-ups in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    this.cancelRelease?.();
    this.cancelRelease = undefined;
    this.releaseAtMs = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.running;
    await this.releasing;
    await Promise.all([...this.followUps]);
  }

  /** Resolves once the round, release pass and follow-ups in progress have finished; for tests. */
  async idle(): Promise<void> {
    await this.running;
    await this.releasing;
    await Promise.all([...this.followUps]);
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.cancel = this.opts.timer.after(Math.max(0, delayMs), () => {
      this.cancel = undefined;
      let nextDelayMs = this.opts.tickMs;
      this.running = this.round()
        .then((wakeMs) => {
          nextDelayMs = Math.min(this.opts.tickMs, wakeMs - this.opts.clock.nowMs());
        })
        .catch((err: unknown) => this.opts.log.error({ err }, 'policy scheduler round failed; the next tick tries again'))
        .finally(() => {
          this.arm(nextDelayMs);
          this.armRelease();
        });
    });
  }

  /**
   * Wakes at the earliest notBefore of a held job (a due time made ahead, a spread VM's offset, a
   * window's opening, a retry's backoff) for a dispatch pass alone: one query and the publishes,
   * not a whole round, since a spread policy has a notBefore every few milliseconds. Re-armed
   * after each round (a job held since is seen within a tick) and after each release.
   */
  private armRelease(): void {
    if (this.stopped) return;
    const { catalog, clock, timer, jobs, log } = this.opts;
    const next = catalog.nextNotBefore(clock.nowIso());
    const atMs = next === undefined ? undefined : Date.parse(next);
    // An armed wake that comes first stays (it re-arms after its pass): never cancel one whose
    // time has come, whose jobs a query at or after that time no longer counts as ahead.
    if (this.releaseAtMs !== undefined && (atMs === undefined || atMs >= this.releaseAtMs)) return;
    this.cancelRelease?.();
    this.cancelRelease = undefined;
    this.releaseAtMs = atMs;
    if (atMs === undefined) return;
    this.cancelRelease = timer.after(Math.max(0, atMs - clock.nowMs()), () => {
      this.cancelRelease = undefined;
      this.releaseAtMs = undefined;
      // A timer may fire a little before the wall clock reaches its time: a pass then would find
      // the job not yet ready, and the next arming (notBefore after now) would pass it over.
      if (clock.nowMs() < atMs) {
        this.armRelease();
        return;
      }
      this.releasing = jobs
        .publishPending()
        .then(
          () => undefined,
          (err: unknown) => log.warn({ err }, 'dispatch pass of held jobs failed; the next round tries again'),
        )
        .finally(() => this.armRelease());
    });
  }

  /**
   * Fires every policy that fell due (and, with a lead, every policy due within it, held until
   * its due time), skips jobs whose window closed, runs a dispatch pass; returns when to wake next.
   */
  private async round(): Promise<number> {
    const { catalog, clock } = this.opts;
    const leadMs = this.opts.prepareLeadMs ?? 0;
    let wakeMs = Number.POSITIVE_INFINITY;
    const due: { policy: Policy; dueMs: number }[] = [];
    const nowMs = clock.nowMs();
    for (const row of catalog.listPolicies()) {
      if (!row.policy.enabled) continue;
      const baseMs = this.countFromMs(row);
      // A due time already past fires now; only when none is, the next one within the lead is made ahead.
      let dueMs = latestDueMs(row.policy, baseMs, nowMs);
      if (dueMs === undefined && leadMs > 0) {
        const upcoming = nextDueMs(row.policy, Math.max(baseMs, nowMs));
        if (upcoming !== undefined && upcoming - nowMs <= leadMs) dueMs = upcoming;
      }
      if (dueMs !== undefined) due.push({ policy: row.policy, dueMs });
      const next = nextDueMs(row.policy, Math.max(dueMs ?? baseMs, nowMs));
      if (next !== undefined) wakeMs = Math.min(wakeMs, next - leadMs);
    }
    // Every policy due in this round at once: one inventory read, one transaction, one publish pass.
    if (due.length > 0 && !this.stopped) {
      await this.fire(due);
      for (const { policy, dueMs } of due) catalog.setPolicyLastDue(policy.name, new Date(dueMs).toISOString());
    }
    wakeMs = Math.min(wakeMs, this.skipClosedWindows());
    await this.opts.jobs.publishPending();
    return wakeMs;
  }

  /** Schedule times after this one are due: the last fired, the creation, or the last edit, whichever is newest. */
  private countFromMs(row: PolicyRow): number {
    const lastDue = this.opts.catalog.getPolicyLastDue(row.policy.name);
    return Math.max(Date.parse(lastDue ?? row.createdAt), Date.parse(row.updatedAt));
  }

  /** One job per covered VM (a backup, or a snapshot for action snapshot) for each policy's schedule time. */
  private async fire(due: readonly { readonly policy: Policy; readonly dueMs: number }[]): Promise<void> {
    const { catalog, clock } = this.opts;
    // The whole inventory (10,000 rows: tens of ms) only when a due policy selects by pattern or tag.
    let inventory: VmRow[] | undefined;
    const candidates = (policy: Policy): VmRow[] => {
      const { namePatterns, tags, vms } = policy.selector;
      if (namePatterns.length === 0 && tags.length === 0) return [...new Set(vms)].flatMap((name) => catalog.getVm(name) ?? []);
      return (inventory ??= catalog.listVms());
    };
    const nowMs = clock.nowMs();
    const requests: BatchRequest[] = [];
    const fired: { policy: Policy; dueAt: string; covered: number; from: number }[] = [];
    for (const { policy, dueMs } of due) {
      const dueAt = new Date(dueMs).toISOString();
      const { spreadMs, window, timezone } = policy.schedule;
      const kind = policy.action === 'snapshot' ? 'snapshot' : 'backup';
      const covered = vmsCoveredBy(policy, candidates(policy));
      const busy = new Set(catalog.listPolicyJobs(policy.name, { unfinished: true }).filter((j) => j.kind === kind).map((j) => j.vm));
      const dueBefore = new Date(dueMs + Math.max(1, spreadMs)).toISOString();
      const made = new Set(catalog.listPolicyJobs(policy.name, { dueFrom: dueAt, dueBefore }).map((j) => j.vm));
      const vms = covered.filter((vm) => !busy.has(vm.name) && !made.has(vm.name));
      fired.push({ policy, dueAt, covered: covered.length, from: requests.length });
      for (const vm of vms) {
        // Each VM due at its own offset with a spread; a job made ahead of its due time (the
        // lead, or the spread) is held until then; a catch-up past its window waits for the next
        // one rather than being skipped at once.
        const vmDueMs = dueMs + spreadOffsetMs(policy.name, vm.name, spreadMs);
        const placement = window ? placeInWindow(window, timezone, Math.max(vmDueMs, nowMs)) : undefined;
        const notBeforeMs = Math.max(placement?.notBeforeMs ?? 0, vmDueMs > nowMs ? vmDueMs : 0);
        const scheduling = {
          policy: policy.name,
          priority: policy.priority,
          dueAt: new Date(vmDueMs).toISOString(),
          maxAttempts: policy.retry.maxAttempts,
          ...(notBeforeMs > 0 ? { notBefore: new Date(notBeforeMs).toISOString() } : {}),
          ...(placement ? { startBy: new Date(placement.startByMs).toISOString() } : {}),
        };
        requests.push(
          kind === 'snapshot'
            ? { kind, vm: vm.name, ...(policy.snapshotKeep !== undefined ? { keep: policy.snapshotKeep } : {}), ...scheduling }
            : {
                kind,
                vm: vm.name,
                mode: policy.schedule.mode,
                consistency: policy.consistency,
                ...(policy.storageSite !== undefined ? { storageSite: policy.storageSite } : {}),
                ...scheduling,
              },
        );
      }
    }
    const results = await this.opts.jobs.startBatch(requests);
    fired.forEach(({ policy, dueAt, covered, from }, i) => {
      const to = fired[i + 1]?.from ?? requests.length;
      const log = this.opts.log.child({ policy: policy.name, dueAt });
      let created = 0;
      for (let k = from; k < to; k++) {
        const r = results[k];
        if (r instanceof Error) log.warn({ err: r, vm: requests[k]?.vm }, `policy ${policy.action} could not be created; the next run tries again`);
        else if (r !== undefined) created++;
      }
      log.info({ action: policy.action, covered, created, coalesced: covered - (to - from) }, 'policy fired');
    });
  }

  /**
   * Skips the unpublished jobs whose start window has ended; returns the next time one ends (a
   * startBy ahead), to wake then. A notBefore ahead wakes the release timer instead.
   */
  private skipClosedWindows(): number {
    const { catalog, clock } = this.opts;
    const now = clock.nowIso();
    let wakeMs = Number.POSITIVE_INFINITY;
    for (const job of catalog.listUnpublishedJobs()) {
      if (job.startBy != null && job.startBy > now) wakeMs = Math.min(wakeMs, Date.parse(job.startBy));
      if (job.startBy == null || job.startBy > now) continue;
      // Sent just before the end, its ack not yet recorded: it is reaching its worker, and runs.
      if (this.opts.jobs.isPublishing(job.id)) continue;
      const reason = `SKIPPED: its start window ended at ${job.startBy} before a dispatch slot was free; the policy's next run makes a new job`;
      if (!catalog.skipJob(job.id, reason, now)) continue;
      this.opts.log.warn({ jobId: job.id, policy: job.policy, vm: job.vm, startBy: job.startBy }, 'job skipped: start window ended');
      this.opts.changes.notify(job.id);
    }
    return wakeMs;
  }

  private onJobChange(jobId: string): void {
    if (this.stopped || this.followedUp.has(jobId)) return;
    const job = this.opts.catalog.getJob(jobId);
    if (job?.state !== 'succeeded' || job.policy == null || (job.kind !== 'backup' && job.kind !== 'sync')) return;
    this.followedUp.add(jobId);
    if (this.followedUp.size > FOLLOWED_UP_MEMORY) {
      const oldest = this.followedUp.values().next().value;
      if (oldest !== undefined) this.followedUp.delete(oldest);
    }
    const done = this.followUp(job, job.policy)
      .catch((err: unknown) => this.opts.log.warn({ err, jobId }, 'follow-up of a policy job failed; the next backup does the same work'))
      .finally(() => this.followUps.delete(done));
    this.followUps.add(done);
  }

  private async followUp(job: JobRow, policyName: string): Promise<void> {
    const row = this.opts.catalog.getPolicy(policyName);
    if (!row) return;
    const policy = row.policy;
    if (job.kind === 'backup' && job.vm !== null) {
      const storageSite = storageSiteOf(job);
      if (storageSite === undefined) return;
      if (policy.retention) await this.prune(policy, job.vm, storageSite);
      for (const replica of policy.replicaSites) await this.sync(policy, storageSite, replica);
      return;
    }
    const pair = syncPairOfJob(job);
    if (!pair || !policy.retention) return;
    const atReplica = new Set(this.opts.catalog.listBackups({ site: pair.to }).map((b) => b.vm));
    for (const vm of vmsCoveredBy(policy, this.opts.catalog.listVms())) {
      if (atReplica.has(vm.name)) await this.prune(policy, vm.name, pair.to);
    }
  }

  private async prune(policy: Policy, vm: string, site: string): Promise<void> {
    if (!policy.retention) return;
    // Coalesced with one that has not started (it will see this backup); one already running
    // may have listed the backups before it, so another follows it.
    const pending = this.opts.catalog
      .listPolicyJobs(policy.name, { unfinished: true })
      .some((j) => j.kind === 'prune' && j.state === 'queued' && j.site === site && j.vm === vm);
    if (pending) return;
    const job = await this.opts.jobs.startPrune({
      site,
      vm,
      keep: policy.retention,
      dryRun: false,
      policy: policy.name,
      priority: policy.priority,
      maxAttempts: policy.retry.maxAttempts,
    });
    this.opts.log.info({ jobId: job.id, policy: policy.name, vm, site }, 'policy prune started');
  }

  private async sync(policy: Policy, from: string, to: string): Promise<void> {
    const { catalog } = this.opts;
    // Coalesced with a sync of the pair that has not started (it will copy this backup); one
    // already running may have listed the backups before it, so another follows it.
    const notStarted = catalog.listJobs({ kind: 'sync', state: 'queued', limit: SYNC_SEARCH_LIMIT });
    if (notStarted.some((j) => { const p = syncPairOfJob(j); return p?.from === from && p.to === to; })) return;
    const job = await this.opts.jobs.startSync({
      fromSite: from,
      toSite: to,
      policy: policy.name,
      priority: policy.priority,
      maxAttempts: policy.retry.maxAttempts,
    });
    this.opts.log.info({ jobId: job.id, policy: policy.name, from, to }, 'policy sync started');
  }
}

/** The site whose storage a backup job wrote to (its params' storage). */
function storageSiteOf(job: JobRow): string | undefined {
  const params = job.params as { storage?: { site?: unknown } } | null;
  const site = params?.storage?.site;
  return typeof site === 'string' ? site : undefined;
}
