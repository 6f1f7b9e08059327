/**
 * The RPO watch (DESIGN.md §8): for each VM a policy with an `rpoMs` covers, and each site that
 * must hold its copies (the policy's storageSite, else the VM's own site, plus every replica
 * site), the age of the newest good copy there — present, not pruned, not damaged — against the
 * target: the smallest rpoMs of the policies (enabled or not) that want copies at that site.
 * A copy is `ok` while younger than the target; older, or no copy at all, is `breached`.
 *
 * A check runs every `checkIntervalMs` and soon after a backup, sync, prune or verify job
 * finishes. A breach raises an RPO alert in the catalog (at most one open per VM and site) and
 * a `rpo.breached` event; a young enough copy resolves it (`rpo.resolved`), and so does the pair
 * leaving the watch (its policy deleted, its RPO removed). Alert and events are written in one
 * transaction, so a crash never leaves an alert without its event or the reverse.
 *
 * Ages use copy creation times (the storage's commit time, kept by syncs): a replica's copy is
 * as old as the data it holds.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/messages/policy.js';
import type { Catalog, NewestGoodCopy, RpoAlertRow, VmRow } from '../catalog/catalog.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';
import type { Timer } from '../jobs/replication-scheduler.js';
import type { EventNotifier } from '../notify/webhook-outbox.js';
import { policiesCovering } from './coverage.js';

export type RpoState = 'ok' | 'breached';

/** Which VM must have a copy at which site, how young, and which policy says so. */
export interface RpoTarget {
  readonly vm: string;
  readonly site: string;
  /** The policy with the smallest rpoMs for the pair (by name among equals). */
  readonly policy: string;
  readonly rpoMs: number;
}

/** One watched VM and site, as checked now. */
export interface RpoEntry extends RpoTarget {
  readonly newestGood: { readonly backupId: string; readonly createdAt: string } | null;
  /** How old the newest good copy is (ms); null when there is none. */
  readonly ageMs: number | null;
  readonly state: RpoState;
  /** The open RPO alert of the pair, once a check raised it. */
  readonly alertId: string | null;
  /** When that alert was raised. */
  readonly breachedSince: string | null;
}

export interface RpoEntryFilter {
  readonly vm?: string;
  readonly site?: string;
  readonly breachedOnly?: boolean;
}

export interface RpoCheckResult {
  readonly watched: number;
  readonly raised: RpoAlertRow[];
  readonly resolved: RpoAlertRow[];
}

export interface RpoWatchOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly log: Logger;
  readonly notifier: EventNotifier;
  readonly changes: Pick<JobChangeFeed, 'subscribeAll'>;
  readonly newId: () => string;
  readonly checkIntervalMs: number;
}

/** Jobs whose end can change the newest good copy somewhere. */
const COPY_CHANGING_KINDS: ReadonlySet<string> = new Set(['backup', 'sync', 'prune', 'verify']);
const OPEN_ALERTS_LIMIT = 1_000_000;

/** Per VM and site, the target of the policies with an RPO that want copies there. */
export function rpoTargets(vms: readonly Pick<VmRow, 'name' | 'site' | 'tags'>[], policies: readonly Policy[]): RpoTarget[] {
  // A snapshot policy makes no backups (validation refuses rpoMs there; an old row is ignored).
  const watching = policies.filter((p): p is Policy & { rpoMs: number } => p.rpoMs !== undefined && p.action !== 'snapshot');
  const targets = new Map<string, RpoTarget>();
  for (const vm of vms) {
    for (const p of policiesCovering(vm, watching)) {
      for (const site of new Set([p.storageSite ?? vm.site, ...p.replicaSites])) {
        const key = pairKey(vm.name, site);
        const known = targets.get(key);
        if (known && (known.rpoMs < p.rpoMs || (known.rpoMs === p.rpoMs && known.policy <= p.name))) continue;
        targets.set(key, { vm: vm.name, site, policy: p.name, rpoMs: p.rpoMs });
      }
    }
  }
  return [...targets.values()].sort((a, b) => a.vm.localeCompare(b.vm) || a.site.localeCompare(b.site));
}

/** The state of each target at `nowMs`, given the newest good copy of each VM and site. */
export function evaluateRpo(
  targets: readonly RpoTarget[],
  newest: readonly NewestGoodCopy[],
  nowMs: number,
): Omit<RpoEntry, 'alertId' | 'breachedSince'>[] {
  const byPair = new Map(newest.map((c) => [pairKey(c.vm, c.site), c]));
  return targets.map((t) => {
    const copy = byPair.get(pairKey(t.vm, t.site));
    // A storage clock a little ahead of ours makes a fresh copy look younger than zero: call it 0.
    const ageMs = copy ? Math.max(0, nowMs - Date.parse(copy.createdAt)) : null;
    return {
      ...t,
      newestGood: copy ? { backupId: copy.backupId, createdAt: copy.createdAt } : null,
      ageMs,
      state: ageMs !== null && ageMs < t.rpoMs ? 'ok' : 'breached',
    };
  });
}

export class RpoWatch {
  private cancelTimer: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private kicked = false;

  constructor(private readonly opts: RpoWatchOptions) {}

  /** Checks now, then every checkIntervalMs and after each copy-changing job. */
  start(): void {
    const { catalog, changes } = this.opts;
    this.unsubscribe = changes.subscribeAll((jobId) => {
      const job = catalog.getJob(jobId);
      if (job && job.finishedAt !== null && COPY_CHANGING_KINDS.has(job.kind)) this.kick();
    });
    this.arm(0);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Every watched VM and site as it stands now, with its open alert (read-only). */
  entries(filter: RpoEntryFilter = {}): RpoEntry[] {
    const { catalog, clock } = this.opts;
    const open = new Map(catalog.listRpoAlerts({ openOnly: true, limit: OPEN_ALERTS_LIMIT }).map((a) => [pairKey(a.vm, a.site), a]));
    return this.evaluate(clock.nowMs())
      .filter((e) => (filter.vm === undefined || e.vm === filter.vm) && (filter.site === undefined || e.site === filter.site))
      .filter((e) => filter.breachedOnly !== true || e.state === 'breached')
      .map((e) => {
        const alert = open.get(pairKey(e.vm, e.site));
        return { ...e, alertId: alert?.alertId ?? null, breachedSince: alert?.raisedAt ?? null };
      });
  }

  /** One check: raises an alert for each new breach and resolves each alert no longer breached. */
  check(): RpoCheckResult {
    const { catalog, clock, notifier } = this.opts;
    return catalog.transaction(() => {
      const nowMs = clock.nowMs();
      const now = new Date(nowMs).toISOString();
      const entries = this.evaluate(nowMs);
      const open = new Map(catalog.listRpoAlerts({ openOnly: true, limit: OPEN_ALERTS_LIMIT }).map((a) => [pairKey(a.vm, a.site), a]));
      const raised: RpoAlertRow[] = [];
      const resolved: RpoAlertRow[] = [];
      const resolve = (alert: RpoAlertRow, resolution: string, detail: Record<string, unknown>) => {
        if (!catalog.resolveRpoAlert(alert.alertId, now, resolution)) return;
        const row = { ...alert, resolvedAt: now, resolution };
        resolved.push(row);
        notifier.publish({ id: `${alert.alertId}.resolved`, type: 'rpo.resolved', time: now, alert: { ...row, ...detail } });
        this.opts.log.info({ alertId: alert.alertId, vm: alert.vm, site: alert.site, resolution }, 'RPO alert resolved');
      };
      for (const e of entries) {
        const key = pairKey(e.vm, e.site);
        const alert = open.get(key);
        open.delete(key);
        const detail = { newestGoodBackupId: e.newestGood?.backupId ?? null, ageMs: e.ageMs };
        if (e.state === 'breached' && alert === undefined) {
          const row: RpoAlertRow = {
            alertId: this.opts.newId(),
            vm: e.vm,
            site: e.site,
            policy: e.policy,
            rpoMs: e.rpoMs,
            newestGoodAt: e.newestGood?.createdAt ?? null,
            raisedAt: now,
            resolvedAt: null,
            resolution: null,
          };
          if (!catalog.insertRpoAlert(row)) continue;
          raised.push(row);
          notifier.publish({ id: `${row.alertId}.breached`, type: 'rpo.breached', time: now, alert: { ...row, ...detail } });
          this.opts.log.warn(
            { alertId: row.alertId, vm: e.vm, site: e.site, policy: e.policy, rpoMs: e.rpoMs, newestGoodAt: row.newestGoodAt, ageMs: e.ageMs },
            'RPO breached',
          );
        } else if (e.state === 'ok' && alert !== undefined && e.newestGood !== null) {
          resolve(alert, `copy ${e.newestGood.backupId} made ${e.newestGood.createdAt} is within the RPO`, {
            ...detail,
            newestGoodAt: e.newestGood.createdAt,
          });
        }
      }
      // Open alerts of pairs no policy with an RPO watches any more (policy deleted or changed).
      for (const alert of open.values()) {
        resolve(alert, 'no policy with an RPO watches this VM at this site any more', { newestGoodBackupId: null, ageMs: null });
      }
      return { watched: entries.length, raised, resolved };
    });
  }

  private evaluate(nowMs: number): Omit<RpoEntry, 'alertId' | 'breachedSince'>[] {
    const { catalog } = this.opts;
    const policies = catalog.listPolicies().map((row) => row.policy);
    // No RPO anywhere (the common case without policies): skip reading the inventory.
    if (!policies.some((p) => p.rpoMs !== undefined)) return [];
    const targets = rpoTargets(catalog.listVms(), policies);
    if (targets.length === 0) return [];
    return evaluateRpo(targets, catalog.newestGoodCopies(), nowMs);
  }

  /** A check soon (coalescing a burst of finished jobs into one). */
  private kick(): void {
    if (this.kicked || this.unsubscribe === undefined) return;
    this.kicked = true;
    this.arm(0);
  }

  private arm(delayMs: number): void {
    this.cancelTimer?.();
    this.cancelTimer = this.opts.timer.after(delayMs, () => {
      this.cancelTimer = undefined;
      this.kicked = false;
      try {
        this.check();
      } catch (err) {
        this.opts.log.error({ err }, 'RPO check failed; trying again at the next interval');
      }
      if (this.unsubscribe !== undefined) this.arm(this.opts.checkIntervalMs);
    });
  }
}

function pairKey(vm: string, site: string): string {
  return `${vm}\u0000${site}`;
}
