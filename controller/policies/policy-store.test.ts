import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { PolicyExistsError } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { nextDueTimes, parsePolicy, PolicyStore } from './policy-store.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-policy-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  // 2026-01-01T00:00:00Z, a Thursday.
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = new PolicyStore({ catalog, clock, log: silentLogger() });
  for (const [name, tags] of [
    ['db-1', ['prod']],
    ['web-1', []],
    ['web-2', ['prod']],
    ['lab', []],
  ] as const) {
    catalog.upsertVm({ name, site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [], tags: [...tags] });
  }
  return { catalog, clock, store };
}

const rejectsWith = (fn: () => unknown, field: string, rule: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.field, field);
    assert.match(err.message, new RegExp(`^${field.replace(/\./g, '\\.')}: .*${rule.source}`));
    return true;
  });

describe('parsePolicy', () => {
  it('names the field and the rule of a bad policy', () => {
    rejectsWith(() => parsePolicy({ name: 'p', schedule: { cron: ['61 * * * *'] } }), 'schedule.cron.0', /is not a valid cron expression/);
    rejectsWith(() => parsePolicy('{"name":"p"'), 'policy_json', /is not valid JSON/);
    rejectsWith(() => parsePolicy({ name: 'P!', schedule: { cron: ['0 2 * * *'] } }), 'name', /lower-case letters/);
    rejectsWith(() => parsePolicy({ name: 'p', schedule: { cron: ['0 2 * * *'], window: { start: '25:00', end: '06:00' } } }), 'schedule.window.start', /HH:MM/);
    rejectsWith(() => parsePolicy({ name: 'p', schedule: { cron: ['0 2 * * *'] }, rpoMs: 5 }), 'rpoMs', /at least 60000/);
    rejectsWith(() => parsePolicy({ name: 'p', schedule: { cron: ['0 2 * * *'] }, colour: 'red' }), 'colour', /is not a field of a policy/);
    rejectsWith(() => parsePolicy({ name: 'p', schedule: { cron: ['0 2 * * *'], tz: 'UTC' } }), 'schedule.tz', /is not a field of a policy/);
  });
});

describe('nextDueTimes', () => {
  it('merges every cron expression, earliest first, in the policy time zone', () => {
    const after = new Date(Date.UTC(2026, 0, 1, 0, 0));
    const policy = parsePolicy({ name: 'p', schedule: { cron: ['0 2 * * *', '30 1 * * *'], timezone: 'Europe/Paris' } });
    // 01:30 and 02:00 Paris (UTC+1 in January) are 00:30 and 01:00 UTC.
    assert.deepEqual(nextDueTimes(policy, after), ['2026-01-01T00:30:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-02T00:30:00.000Z']);
  });
});

describe('PolicyStore', () => {
  it('creates a policy, reads it with the VMs it covers and its next due times', () => {
    const { store, clock } = setup();
    const created = store.create(JSON.stringify({ name: 'nightly', schedule: { cron: ['0 2 * * *'] }, selector: { tags: ['prod'], vms: ['lab'] } }));
    assert.equal(created.createdAt, clock.nowIso());
    assert.deepEqual(created.coveredVms, ['db-1', 'lab', 'web-2']);
    assert.deepEqual(created.nextDue, ['2026-01-01T02:00:00.000Z', '2026-01-02T02:00:00.000Z', '2026-01-03T02:00:00.000Z']);
    assert.deepEqual(store.get('nightly'), created);
    assert.deepEqual(
      store.list().map((v) => v.policy.name),
      ['nightly'],
    );
    assert.throws(() => store.create({ name: 'nightly', schedule: { cron: ['0 3 * * *'] } }), PolicyExistsError);
  });

  it('a disabled policy shows no next due time', () => {
    const { store } = setup();
    assert.deepEqual(store.create({ name: 'off', enabled: false, schedule: { cron: ['0 2 * * *'] } }).nextDue, []);
  });

  it('updates keep createdAt; a stale ifUpdatedAt is refused and changes nothing', () => {
    const { store, clock } = setup();
    const first = store.create({ name: 'p', schedule: { cron: ['0 2 * * *'] } });
    clock.advance(60_000);
    const second = store.update({ ...first.policy, priority: 80 }, first.updatedAt);
    assert.equal(second.createdAt, first.createdAt);
    assert.equal(second.updatedAt, clock.nowIso());
    assert.throws(() => store.update({ ...first.policy, priority: 10 }, first.updatedAt), PreconditionError);
    assert.equal(store.get('p').policy.priority, 80);
    assert.throws(() => store.update({ ...first.policy, name: 'missing' }), NotFoundError);
  });

  it('assigns and unassigns VMs, patterns and tags, each once', () => {
    const { store } = setup();
    store.create({ name: 'p', schedule: { cron: ['0 2 * * *'] } });
    assert.deepEqual(store.get('p').coveredVms, []);
    const added = store.assign('p', { vms: ['lab', 'lab'], namePatterns: ['web-*'], tags: [], remove: false });
    assert.deepEqual(added.policy.selector, { vms: ['lab'], namePatterns: ['web-*'], tags: [] });
    assert.deepEqual(added.coveredVms, ['lab', 'web-1', 'web-2']);
    store.assign('p', { vms: ['lab'], namePatterns: [], tags: ['prod'], remove: false });
    const removed = store.assign('p', { vms: [], namePatterns: ['web-*'], tags: [], remove: true });
    assert.deepEqual(removed.policy.selector, { vms: ['lab'], namePatterns: [], tags: ['prod'] });
    assert.deepEqual(removed.coveredVms, ['db-1', 'lab', 'web-2']);
    assert.throws(() => store.assign('nope', { vms: ['lab'], namePatterns: [], tags: [], remove: false }), NotFoundError);
  });

  it('deletes a policy and leaves its jobs', () => {
    const { store, catalog } = setup();
    store.create({ name: 'p', schedule: { cron: ['0 2 * * *'] } });
    catalog.insertJob({
      id: 'j1', kind: 'backup', state: 'succeeded', site: 'a', worker: 'agent-1', vm: 'lab', attempt: 1, params: {}, result: null,
      error: null, progress: null, createdAt: '2026-01-01T00:00:00.000Z', publishedAt: null, startedAt: null, finishedAt: null,
      policy: 'p', priority: 50, dueAt: null, notBefore: null, startBy: null, maxAttempts: 1,
    });
    store.delete('p');
    assert.throws(() => store.get('p'), NotFoundError);
    assert.throws(() => store.delete('p'), NotFoundError);
    assert.equal(catalog.getJob('j1')?.state, 'succeeded');
  });
});
