import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../shared/errors.js';
import { selectRetained, type RetentionCandidate } from './retention.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 21, 12);

function backup(id: string, createdAtMs: number, extra: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { backupId: id, vm: 'vm1', createdAt: new Date(createdAtMs).toISOString(), lock: null, parentOfOpenSession: false, ...extra };
}

const ids = (decisions: { backupId: string }[]) => decisions.map((d) => d.backupId).sort();

describe('selectRetained (restic forget semantics)', () => {
  it('refuses to decide without any rule, naming keep', () => {
    assert.throws(
      () => selectRetained([backup('a', NOW)], {}, NOW),
      (e: unknown) => e instanceof ValidationError && e.field === 'keep',
    );
  });

  it('keep-last keeps the N newest and names their rank', () => {
    const all = [backup('a', NOW - 3 * HOUR), backup('b', NOW - 2 * HOUR), backup('c', NOW - HOUR)];
    const { kept, removed } = selectRetained(all, { last: 2 }, NOW);
    assert.deepEqual(ids(kept), ['b', 'c']);
    assert.deepEqual(ids(removed), ['a']);
    assert.deepEqual(kept.find((d) => d.backupId === 'c')?.keptBy, ['last 1']);
    assert.deepEqual(kept.find((d) => d.backupId === 'b')?.keptBy, ['last 2']);
  });

  it('keep-daily keeps the newest backup of each of the N newest days, and rules add up', () => {
    const all = [
      backup('d1-early', Date.UTC(2026, 10, 19, 1)),
      backup('d1-late', Date.UTC(2026, 10, 19, 23)),
      backup('d2-early', Date.UTC(2026, 10, 20, 2)),
      backup('d2-late', Date.UTC(2026, 10, 20, 20)),
      backup('d3', Date.UTC(2026, 10, 21, 9)),
    ];
    const { kept, removed } = selectRetained(all, { daily: 2, last: 1 }, NOW);
    assert.deepEqual(ids(kept), ['d2-late', 'd3']);
    assert.deepEqual(ids(removed), ['d1-early', 'd1-late', 'd2-early']);
    assert.deepEqual(kept.find((d) => d.backupId === 'd3')?.keptBy, ['last 1', 'daily 2026-11-21']);
    assert.deepEqual(kept.find((d) => d.backupId === 'd2-late')?.keptBy, ['daily 2026-11-20']);
  });

  it('counts distinct buckets: hourly, weekly (ISO weeks), monthly, yearly', () => {
    const all = [
      backup('y2024', Date.UTC(2024, 5, 1)),
      backup('y2025-a', Date.UTC(2025, 0, 5)),
      backup('y2025-b', Date.UTC(2025, 11, 31)),
      backup('m10', Date.UTC(2026, 9, 15)),
      backup('w46', Date.UTC(2026, 10, 12)),
      backup('w47-mon', Date.UTC(2026, 10, 16, 8)),
      backup('w47-sat-10', Date.UTC(2026, 10, 21, 10, 5)),
      backup('w47-sat-11a', Date.UTC(2026, 10, 21, 11, 5)),
      backup('w47-sat-11b', Date.UTC(2026, 10, 21, 11, 50)),
    ];
    const hourly = selectRetained(all, { hourly: 2 }, NOW);
    assert.deepEqual(ids(hourly.kept), ['w47-sat-10', 'w47-sat-11b']);
    assert.deepEqual(hourly.kept.find((d) => d.backupId === 'w47-sat-11b')?.keptBy, ['hourly 2026-11-21T11']);
    const weekly = selectRetained(all, { weekly: 2 }, NOW);
    assert.deepEqual(ids(weekly.kept), ['w46', 'w47-sat-11b']);
    assert.deepEqual(weekly.kept.find((d) => d.backupId === 'w46')?.keptBy, ['weekly 2026-W46']);
    const monthly = selectRetained(all, { monthly: 3 }, NOW);
    assert.deepEqual(ids(monthly.kept), ['m10', 'w47-sat-11b', 'y2025-b']);
    const yearly = selectRetained(all, { yearly: 5 }, NOW);
    assert.deepEqual(ids(yearly.kept), ['w47-sat-11b', 'y2024', 'y2025-b']);
    assert.deepEqual(yearly.kept.find((d) => d.backupId === 'y2024')?.keptBy, ['yearly 2024']);
  });

  it('applies the rules per VM', () => {
    const all = [backup('a1', NOW - 2 * HOUR), backup('a2', NOW - HOUR), backup('b1', NOW - 3 * HOUR, { vm: 'vm2' })];
    const { kept, removed } = selectRetained(all, { last: 1 }, NOW);
    assert.deepEqual(ids(kept), ['a2', 'b1']);
    assert.deepEqual(ids(removed), ['a1']);
  });

  it('keeps a backup locked now, and the parent of an open session, whatever the rules say', () => {
    const until = new Date(NOW + DAY).toISOString();
    const all = [
      backup('locked', NOW - 5 * DAY, { lock: { until, untilMs: NOW + DAY } }),
      backup('expired', NOW - 4 * DAY, { lock: { until: new Date(NOW - HOUR).toISOString(), untilMs: NOW - HOUR } }),
      backup('damaged-lock', NOW - 3 * DAY, { lock: 'damaged' }),
      backup('parent', NOW - 2 * DAY, { parentOfOpenSession: true }),
      backup('newest', NOW - DAY),
    ];
    const { kept, removed } = selectRetained(all, { last: 1 }, NOW);
    assert.deepEqual(ids(removed), ['expired']);
    assert.deepEqual(kept.find((d) => d.backupId === 'locked')?.keptBy, [`locked until ${until}`]);
    assert.deepEqual(kept.find((d) => d.backupId === 'damaged-lock')?.keptBy, ['locked (damaged lock file)']);
    assert.deepEqual(kept.find((d) => d.backupId === 'parent')?.keptBy, ['parent of an open backup session']);
  });

  it('orders ties by backup id and never keeps more than asked', () => {
    const all = [backup('01A', NOW), backup('01B', NOW), backup('01C', NOW)];
    const { kept } = selectRetained(all, { last: 2 }, NOW);
    assert.deepEqual(ids(kept), ['01B', '01C']);
  });
});
