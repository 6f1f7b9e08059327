import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Policy, type PolicyInput } from './policy.js';

const base: PolicyInput = { name: 'p', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1'] } };

/** The first issue's path and message, or undefined when the input is valid. */
function issue(input: PolicyInput): { path: string; message: string } | undefined {
  const r = Policy.safeParse(input);
  if (r.success) return undefined;
  const first = r.error.issues[0];
  return { path: first?.path.join('.') ?? '', message: first?.message ?? '' };
}

describe('Policy action', () => {
  it('defaults to backup and accepts a snapshot policy with snapshotKeep', () => {
    assert.equal(Policy.parse(base).action, 'backup');
    const snap = Policy.parse({ ...base, action: 'snapshot', snapshotKeep: 3 });
    assert.equal(snap.action, 'snapshot');
    assert.equal(snap.snapshotKeep, 3);
  });

  it('requires snapshotKeep with action snapshot and refuses it with backup', () => {
    assert.equal(issue({ ...base, action: 'snapshot' })?.path, 'snapshotKeep');
    assert.match(issue({ ...base, action: 'snapshot' })?.message ?? '', /required with action snapshot/);
    assert.equal(issue({ ...base, snapshotKeep: 2 })?.path, 'snapshotKeep');
    assert.equal(issue({ ...base, action: 'snapshot', snapshotKeep: 0 })?.path, 'snapshotKeep');
    assert.equal(issue({ ...base, action: 'other' as 'backup' })?.message, 'must be backup or snapshot');
  });

  it('refuses the backup-only fields in a snapshot policy, naming each', () => {
    const snap: PolicyInput = { ...base, action: 'snapshot', snapshotKeep: 2 };
    const cases: [PolicyInput, string][] = [
      [{ ...snap, retention: { last: 3 } }, 'retention'],
      [{ ...snap, rpoMs: 3_600_000 }, 'rpoMs'],
      [{ ...snap, storageSite: 'a' }, 'storageSite'],
      [{ ...snap, replicaSites: ['b'] }, 'replicaSites'],
      [{ ...snap, consistency: { mode: 'application' } }, 'consistency'],
      [{ ...snap, schedule: { cron: ['0 * * * *'], mode: 'full' } }, 'schedule.mode'],
    ];
    for (const [input, path] of cases) {
      const found = issue(input);
      assert.equal(found?.path, path);
      assert.match(found?.message ?? '', /backup policies only/);
    }
  });
});

describe('Policy schedule spread', () => {
  it('defaults to no spread and names the field and rule of a bad one', () => {
    assert.equal(Policy.parse(base).schedule.spreadMs, 0);
    assert.equal(Policy.parse({ ...base, schedule: { cron: ['0 * * * *'], spreadMs: 900_000 } }).schedule.spreadMs, 900_000);
    assert.deepEqual(issue({ ...base, schedule: { cron: ['0 * * * *'], spreadMs: -1 } }), { path: 'schedule.spreadMs', message: 'must be at least 0' });
    assert.deepEqual(issue({ ...base, schedule: { cron: ['0 * * * *'], spreadMs: 1.5 } }), {
      path: 'schedule.spreadMs',
      message: 'must be a whole number of milliseconds',
    });
    assert.deepEqual(issue({ ...base, schedule: { cron: ['0 * * * *'], spreadMs: 13 * 3600_000 } }), {
      path: 'schedule.spreadMs',
      message: 'must be at most 43200000 (12 h)',
    });
  });
});
