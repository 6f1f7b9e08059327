/**
 * Policies as data: create, replace, read, list, delete and assign (change the selector) the
 * policies in the catalog, each read with what it means now — the VMs it covers (coverage.ts,
 * from the current inventory) and its next due times (its cron expressions in its time zone).
 *
 * Every policy that enters is validated with the zod Policy (shared/messages/policy.ts); a bad
 * one is a ValidationError naming the field in the policy (`schedule.cron.0`). Deleting a policy
 * leaves its jobs and backups: they are history, and retention of the backups is the prune's job;
 * only its jobs not sent yet are cancelled (also when it is disabled).
 * Writes are single catalog statements, or one transaction for a read-modify-write, so a crash
 * leaves either the old policy or the new one.
 */
import { Cron } from 'croner';
import type { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { Policy, type PolicySelector } from '../../shared/messages/policy.js';
import type { Catalog, PolicyRow } from '../catalog/catalog.js';
import { vmsCoveredBy } from './coverage.js';

/** How many next due times a read shows. */
export const NEXT_DUE_COUNT = 3;

/** A stored policy with what it covers now and when it is next due. */
export interface PolicyView extends PolicyRow {
  /** Names of the VMs it covers now, sorted. */
  readonly coveredVms: readonly string[];
  /** Its next due times, ISO UTC, earliest first; none while disabled. */
  readonly nextDue: readonly string[];
}

/** A change of a policy's selector: entries to add, or (remove) to take out. */
export interface SelectorChange {
  readonly vms: readonly string[];
  readonly namePatterns: readonly string[];
  readonly tags: readonly string[];
  readonly remove: boolean;
}

export interface PolicyStoreOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly log: Logger;
  /** Told of each job a delete or disable withdrew (the change feed's notify). */
  readonly jobChanged?: (jobId: string) => void;
}

/** The next `count` schedule times of the policy strictly after `after` (every cron merged), ISO UTC. */
export function nextDueTimes(policy: Pick<Policy, 'schedule'>, after: Date, count = NEXT_DUE_COUNT): string[] {
  const times = new Set<number>();
  for (const expr of policy.schedule.cron) {
    const cron = new Cron(expr, { timezone: policy.schedule.timezone, paused: true });
    for (const at of cron.nextRuns(count, after)) times.add(at.getTime());
  }
  return [...times]
    .sort((a, b) => a - b)
    .slice(0, count)
    .map((ms) => new Date(ms).toISOString());
}

/** Validates a policy from JSON text or a value; a ValidationError names the field and the rule. */
export function parsePolicy(input: unknown): Policy {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new ValidationError('policy_json', `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const result = Policy.safeParse(value);
  if (result.success) return result.data;
  throw validationErrorOf(result.error);
}

function validationErrorOf(error: z.ZodError): ValidationError {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    return new ValidationError([...issue.path, issue.keys[0] ?? ''].map(String).join('.'), 'is not a field of a policy (docs/OPERATORS.md, Policies, lists them)');
  }
  return new ValidationError(issue ? issue.path.map(String).join('.') : '', issue?.message ?? 'invalid');
}

export class PolicyStore {
  constructor(private readonly opts: PolicyStoreOptions) {}

  /** Stores a new policy; PolicyExistsError when the name is taken. */
  create(input: unknown): PolicyView {
    const policy = parsePolicy(input);
    const row = this.opts.catalog.insertPolicy(policy, this.opts.clock.nowIso());
    this.opts.log.info({ policy: policy.name }, 'policy created');
    return this.view(row);
  }

  /**
   * Replaces a policy (its name says which). With `ifUpdatedAt`, only when it was last updated
   * then: a read-modify-write never silently undoes a change made in between.
   */
  update(input: unknown, ifUpdatedAt?: string): PolicyView {
    const policy = parsePolicy(input);
    const { catalog, clock } = this.opts;
    const row = catalog.transaction(() => {
      const current = catalog.getPolicy(policy.name);
      if (!current) throw new NotFoundError('policy', policy.name);
      if (ifUpdatedAt !== undefined && current.updatedAt !== ifUpdatedAt) {
        throw new PreconditionError(
          `policy ${policy.name} changed at ${current.updatedAt}, after it was read (${ifUpdatedAt}); read it again and repeat the change`,
          { policy: policy.name, updatedAt: current.updatedAt },
        );
      }
      const updated = catalog.updatePolicy(policy, clock.nowIso());
      if (current.policy.enabled && !policy.enabled) this.withdraw(policy.name, 'disabled');
      return updated;
    });
    this.opts.log.info({ policy: policy.name }, 'policy updated');
    return this.view(row);
  }

  get(name: string): PolicyView {
    const row = this.opts.catalog.getPolicy(name);
    if (!row) throw new NotFoundError('policy', name);
    return this.view(row);
  }

  list(): PolicyView[] {
    const vms = this.opts.catalog.listVms();
    const now = new Date(this.opts.clock.nowMs());
    return this.opts.catalog.listPolicies().map((row) => viewOf(row, vms, now));
  }

  /**
   * Removes a policy; its jobs and backups stay, except the jobs it made that have not gone out
   * yet, which are cancelled. NotFoundError when there is none.
   */
  delete(name: string): void {
    const { catalog } = this.opts;
    catalog.transaction(() => {
      if (!catalog.deletePolicy(name)) throw new NotFoundError('policy', name);
      this.withdraw(name, 'deleted');
    });
    this.opts.log.info({ policy: name }, 'policy deleted');
  }

  /**
   * A deleted or disabled policy's jobs that have not gone out (made ahead of their due time,
   * waiting for a window, a slot or a retry) are cancelled: they would run for a policy that
   * no longer asks for them, and no follow-up would come after them.
   */
  private withdraw(name: string, what: 'deleted' | 'disabled'): void {
    const { catalog, clock, log, jobChanged } = this.opts;
    const ids = catalog.withdrawHeldPolicyJobs(name, `CANCELLED: its policy ${name} was ${what} before the job was sent`, clock.nowIso());
    if (ids.length === 0) return;
    log.info({ policy: name, count: ids.length }, `unsent jobs of a ${what} policy cancelled`);
    // After the caller's transaction commits (notifications must follow the change).
    queueMicrotask(() => {
      for (const id of ids) jobChanged?.(id);
    });
  }

  /** Adds entries to the policy's selector (each once), or removes them. */
  assign(name: string, change: SelectorChange): PolicyView {
    const { catalog, clock } = this.opts;
    const row = catalog.transaction(() => {
      const current = catalog.getPolicy(name);
      if (!current) throw new NotFoundError('policy', name);
      const selector = changeSelector(current.policy.selector, change);
      return catalog.updatePolicy(parsePolicy({ ...current.policy, selector }), clock.nowIso());
    });
    this.opts.log.info({ policy: name, remove: change.remove }, 'policy selector changed');
    return this.view(row);
  }

  private view(row: PolicyRow): PolicyView {
    return viewOf(row, this.opts.catalog.listVms(), new Date(this.opts.clock.nowMs()));
  }
}

function changeSelector(selector: PolicySelector, change: SelectorChange): PolicySelector {
  const apply = (current: readonly string[], given: readonly string[]) =>
    change.remove ? current.filter((x) => !given.includes(x)) : [...new Set([...current, ...given])];
  return {
    vms: apply(selector.vms, change.vms),
    namePatterns: apply(selector.namePatterns, change.namePatterns),
    tags: apply(selector.tags, change.tags),
  };
}

function viewOf(row: PolicyRow, vms: Parameters<typeof vmsCoveredBy>[1], now: Date): PolicyView {
  return {
    ...row,
    coveredVms: vmsCoveredBy(row.policy, vms)
      .map((vm) => vm.name)
      .sort(),
    nextDue: row.policy.enabled ? nextDueTimes(row.policy, now) : [],
  };
}
