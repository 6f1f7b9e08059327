/**
 * Retention: which backups a prune keeps, and why. Pure: the caller supplies the backups (with
 * the createdAt their storage assigned at commit, never a client's time), the rules and "now".
 *
 * The semantics are restic's `forget`, per VM: backups newest first; each rule (last, hourly,
 * daily, weekly, monthly, yearly; times in UTC, ISO weeks) keeps the newest backup of each of
 * its N most recent distinct buckets; a backup may be kept by several rules and every one is
 * named in keptBy ("last 1", "daily 2026-11-21", "weekly 2026-W47"). Besides the rules, a backup
 * locked now is kept ("locked until …"), and so is the parent of an open backup session. With
 * no rule at all, nothing is decided: a prune without rules would delete everything.
 */
import { ValidationError } from '../../shared/errors.js';
import type { RetentionRules } from '../../shared/messages/jobs.js';
import type { PruneDecision } from '../../shared/messages/results.js';

/** A backup as retention sees it. */
export interface RetentionCandidate {
  readonly backupId: string;
  readonly vm: string;
  /** Storage-assigned commit time, ISO-8601. */
  readonly createdAt: string;
  /** The lock's end, 'damaged' (an unreadable lock counts as locked), or null. */
  readonly lock: { readonly until: string; readonly untilMs: number } | 'damaged' | null;
  /** An open session builds on it. */
  readonly parentOfOpenSession: boolean;
}

type RuleName = keyof RetentionRules;
const RULES: readonly RuleName[] = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];

function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

function bucketOf(rule: RuleName, createdAt: Date, position: number): string {
  const iso = createdAt.toISOString();
  switch (rule) {
    case 'last':
      return String(position);
    case 'hourly':
      return iso.slice(0, 13);
    case 'daily':
      return iso.slice(0, 10);
    case 'weekly':
      return isoWeek(createdAt);
    case 'monthly':
      return iso.slice(0, 7);
    case 'yearly':
      return iso.slice(0, 4);
  }
}

/** Splits the backups into kept (each with its reasons) and removed. Throws ValidationError('keep') without rules. */
export function selectRetained(
  backups: readonly RetentionCandidate[],
  rules: RetentionRules,
  nowMs: number,
): { kept: PruneDecision[]; removed: PruneDecision[] } {
  const active = RULES.filter((r) => rules[r] !== undefined);
  for (const r of active) {
    const n = rules[r];
    if (n === undefined || !Number.isInteger(n) || n < 1) throw new ValidationError(`keep.${r}`, 'must be a positive integer');
  }
  if (active.length === 0) {
    throw new ValidationError('keep', 'at least one rule (last, hourly, daily, weekly, monthly, yearly) is required: with none, prune would delete every backup');
  }
  const byVm = new Map<string, RetentionCandidate[]>();
  for (const b of backups) {
    const list = byVm.get(b.vm);
    if (list) list.push(b);
    else byVm.set(b.vm, [b]);
  }
  const kept: PruneDecision[] = [];
  const removed: PruneDecision[] = [];
  for (const vm of [...byVm.keys()].sort()) {
    const newestFirst = [...(byVm.get(vm) ?? [])].sort((a, b) => {
      const t = Date.parse(b.createdAt) - Date.parse(a.createdAt);
      return t !== 0 ? t : a.backupId < b.backupId ? 1 : a.backupId > b.backupId ? -1 : 0;
    });
    const left = new Map<RuleName, number>(active.map((r) => [r, rules[r] ?? 0]));
    const lastBucket = new Map<RuleName, string>();
    const decisions: PruneDecision[] = [];
    newestFirst.forEach((b, position) => {
      const keptBy: string[] = [];
      const at = new Date(b.createdAt);
      for (const rule of active) {
        if ((left.get(rule) ?? 0) <= 0) continue;
        const bucket = bucketOf(rule, at, position);
        if (lastBucket.get(rule) === bucket) continue;
        lastBucket.set(rule, bucket);
        left.set(rule, (left.get(rule) ?? 0) - 1);
        keptBy.push(rule === 'last' ? `last ${(rules.last ?? 0) - (left.get(rule) ?? 0)}` : `${rule} ${bucket}`);
      }
      if (b.lock === 'damaged') keptBy.push('locked (damaged lock file)');
      else if (b.lock !== null && b.lock.untilMs > nowMs) keptBy.push(`locked until ${b.lock.until}`);
      if (b.parentOfOpenSession) keptBy.push('parent of an open backup session');
      decisions.push({ backupId: b.backupId, vm: b.vm, createdAt: b.createdAt, keptBy });
    });
    for (const d of decisions.reverse()) (d.keptBy.length > 0 ? kept : removed).push(d);
  }
  return { kept, removed };
}
