/**
 * The RPO watch on a real SQLite catalog with a manual clock: ages and states per VM and site,
 * the smallest target winning, which copies count as good (damaged, pruned and alert-covered ones
 * do not), one open alert per pair, resolution by a young copy or by the policy going away, and
 * the events handed to the notifier in the same transaction.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { Policy, type PolicyInput } from '../../shared/messages/policy.js';
import type { BackupRow } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { JobChangeFeed } from '../jobs/job-change-feed.js';
import type { WebhookEvent } from '../notify/webhook-outbox.js';
import { RpoWatch, rpoTargets } from './rpo-watch.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-rpo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1, 12);

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const clock = new ManualClock(T0);
  const events: WebhookEvent[] = [];
  const timers: { delayMs: number; fn: () => void; cancelled: boolean }[] = [];
  let ids = 0;
  const watch = new RpoWatch({
    catalog,
    clock,
    timer: {
      after: (delayMs, fn) => {
        const t = { delayMs, fn, cancelled: false };
        timers.push(t);
        return () => (t.cancelled = true);
      },
    },
    log: silentLogger(),
    notifier: { publish: (e) => events.push(e) },
    changes: new JobChangeFeed(),
    newId: () => `R${++ids}`,
    checkIntervalMs: 30_000,
  });
  const vm = (name: string, site = 'a', tags: string[] = []) =>
    catalog.upsertVm({ name, site, worker: 'agent-1', hypervisor: 'files', disks: [{ name: 'disk0', sizeBytes: 1 << 20 }], tags });
  const policy = (input: Partial<PolicyInput> & { name: string }) =>
    catalog.insertPolicy(Policy.parse({ schedule: { cron: ['0 3 * * *'] }, ...input }), clock.nowIso());
  /** A good copy made `agoMs` before now. */
  const backup = (backupId: string, vmName: string, site: string, agoMs: number, extra: Partial<BackupRow> = {}) =>
    catalog.insertBackup({
      backupId,
      site,
      vm: vmName,
      createdAt: new Date(clock.nowMs() - agoMs).toISOString(),
      mode: 'full',
      parentBackupId: null,
      jobId: 'J',
      sizeBytes: 1,
      disks: [{ name: 'disk0', sizeBytes: 1 << 20 }],
      verifiedAt: null,
      state: 'ok',
      stateAt: null,
      lockedUntil: null,
      prunedAt: null,
      seenAt: null,
      ...extra,
    });
  const states = () => Object.fromEntries(watch.entries().map((e) => [`${e.vm}@${e.site}`, `${e.state} ${e.ageMs === null ? 'none' : e.ageMs / MIN}m/${e.rpoMs / MIN}m ${e.policy}`]));
  return { catalog, clock, events, timers, watch, vm, policy, backup, states };
}

describe('RPO watch', () => {
  it('ages the newest good copy per VM and site: the storage site and each replica', () => {
    const { clock, events, watch, vm, policy, backup, states, catalog } = setup();
    vm('vm1', 'a');
    vm('vm2', 'a');
    policy({ name: 'p', rpoMs: HOUR, replicaSites: ['b'], selector: { vms: ['vm1'] } });
    backup('B1', 'vm1', 'a', 30 * MIN);
    backup('B0', 'vm1', 'b', 90 * MIN);
    // vm2 is covered by no policy with an RPO: not watched.
    assert.deepEqual(states(), { 'vm1@a': 'ok 30m/60m p', 'vm1@b': 'breached 90m/60m p' });

    const first = watch.check();
    assert.deepEqual(first.raised.map((a) => `${a.vm}@${a.site}`), ['vm1@b']);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'rpo.breached');
    assert.equal(events[0]?.id, 'R1.breached');

    // 31 minutes on, the copy at a is 61 minutes old: breached too. b stays one open alert.
    clock.advance(31 * MIN);
    const second = watch.check();
    assert.deepEqual(second.raised.map((a) => `${a.vm}@${a.site}`), ['vm1@a']);
    assert.equal(watch.check().raised.length, 0, 'one open alert per VM and site');
    assert.equal(catalog.listRpoAlerts({ openOnly: true, limit: 10 }).length, 2);
    const entryA = watch.entries({ site: 'a' })[0];
    assert.equal(entryA?.alertId, 'R2');
    assert.equal(entryA?.breachedSince, clock.nowIso());

    // Exactly at the target is a breach: the copy must be younger than the RPO.
    backup('B2', 'vm1', 'a', HOUR);
    assert.equal(watch.entries({ site: 'a' })[0]?.state, 'breached');

    // A new backup at a resolves a only.
    backup('B3', 'vm1', 'a', 0);
    const third = watch.check();
    assert.deepEqual(third.resolved.map((a) => a.alertId), ['R2']);
    assert.match(third.resolved[0]?.resolution ?? '', /B3/);
    assert.deepEqual(events.map((e) => `${e.type} ${e.id}`), ['rpo.breached R1.breached', 'rpo.breached R2.breached', 'rpo.resolved R2.resolved']);
    assert.deepEqual(watch.entries({ breachedOnly: true }).map((e) => e.site), ['b']);
  });

  it('counts no backup at all as breached with the age unknown', () => {
    const { watch, vm, policy, events } = setup();
    vm('vm1', 'a');
    policy({ name: 'p', rpoMs: HOUR, selector: { namePatterns: ['vm*'] } });
    const [entry] = watch.entries();
    assert.equal(entry?.state, 'breached');
    assert.equal(entry?.ageMs, null);
    assert.equal(entry?.newestGood, null);
    watch.check();
    const alert = events[0]?.alert as { newestGoodAt: unknown; ageMs: unknown };
    assert.equal(alert.newestGoodAt, null);
    assert.equal(alert.ageMs, null);
  });

  it('takes the smallest target of the policies covering a VM, per site, and watches disabled policies too', () => {
    const { vm, policy, backup, states } = setup();
    vm('web1', 'a', ['gold']);
    policy({ name: 'daily', rpoMs: 2 * HOUR, replicaSites: ['b'], selector: { vms: ['web1'] } });
    policy({ name: 'gold', rpoMs: 30 * MIN, enabled: false, selector: { tags: ['gold'] } });
    policy({ name: 'no-rpo', storageSite: 'c', selector: { vms: ['web1'] } });
    backup('B1', 'web1', 'a', HOUR);
    backup('B2', 'web1', 'b', HOUR);
    assert.deepEqual(states(), {
      'web1@a': 'breached 60m/30m gold',
      'web1@b': 'ok 60m/120m daily',
    });
  });

  it('targets: the storage site replaces the VM site; equal targets go to the first policy by name', () => {
    const targets = rpoTargets(
      [{ name: 'vm1', site: 'a', tags: [] }],
      [
        Policy.parse({ name: 'zz', schedule: { cron: ['0 3 * * *'] }, rpoMs: HOUR, storageSite: 'c', selector: { vms: ['vm1'] } }),
        Policy.parse({ name: 'aa', schedule: { cron: ['0 3 * * *'] }, rpoMs: HOUR, storageSite: 'c', replicaSites: ['a'], selector: { vms: ['vm1'] } }),
      ],
    );
    assert.deepEqual(targets, [
      { vm: 'vm1', site: 'a', policy: 'aa', rpoMs: HOUR },
      { vm: 'vm1', site: 'c', policy: 'aa', rpoMs: HOUR },
    ]);
  });

  it('does not count damaged, pruned or alert-covered copies as good', () => {
    const { catalog, clock, watch, vm, policy, backup } = setup();
    vm('vm1', 'a');
    policy({ name: 'p', rpoMs: HOUR, selector: { vms: ['vm1'] } });
    backup('OLD', 'vm1', 'a', 3 * HOUR);
    backup('PRUNED', 'vm1', 'a', 10 * MIN, { prunedAt: clock.nowIso() });
    backup('DAMAGED', 'vm1', 'a', 20 * MIN, { state: 'damaged' });
    backup('ALERTED', 'vm1', 'a', 30 * MIN);
    catalog.insertAlert({
      alertId: 'D1',
      site: 'a',
      object: 'chunk',
      digest: 'ab',
      backupId: 'ALERTED',
      disk: null,
      problem: 'missing',
      peersTried: [],
      raisedAt: clock.nowIso(),
      affected: [],
      message: 'chunk ab missing',
    });
    // The same backup at another site is good there, and says nothing about a.
    backup('ALERTED', 'vm1', 'b', 30 * MIN);
    const newest = () => watch.entries()[0]?.newestGood?.backupId;
    assert.equal(newest(), 'OLD');
    assert.equal(watch.entries()[0]?.state, 'breached');
    catalog.recordAlertResolution('D1', clock.nowIso(), 'repaired');
    assert.equal(newest(), 'ALERTED');
    assert.equal(watch.entries()[0]?.state, 'ok');
  });

  it('resolves an open alert when no policy with an RPO watches the pair any more', () => {
    const { catalog, watch, vm, policy, events } = setup();
    vm('vm1', 'a');
    policy({ name: 'p', rpoMs: HOUR, replicaSites: ['b'], selector: { vms: ['vm1'] } });
    assert.equal(watch.check().raised.length, 2);
    catalog.deletePolicy('p');
    const { resolved } = watch.check();
    assert.equal(resolved.length, 2);
    assert.match(resolved[0]?.resolution ?? '', /no policy/);
    assert.deepEqual(events.map((e) => e.type), ['rpo.breached', 'rpo.breached', 'rpo.resolved', 'rpo.resolved']);
    assert.equal(catalog.listRpoAlerts({ openOnly: true, limit: 10 }).length, 0);
    assert.equal(catalog.listRpoAlerts({ openOnly: false, limit: 10 }).length, 2);
  });

  it('checks at start, every interval and soon after a backup job finishes', () => {
    const { catalog, timers, watch, vm, policy } = setup();
    vm('vm1', 'a');
    policy({ name: 'p', rpoMs: HOUR, selector: { vms: ['vm1'] } });
    const changes = (watch as unknown as { opts: { changes: JobChangeFeed } }).opts.changes;
    watch.start();
    const fire = () => {
      const t = timers.filter((x) => !x.cancelled).at(-1);
      assert.ok(t, 'a timer is armed');
      t.cancelled = true;
      t.fn();
      return t.delayMs;
    };
    assert.equal(fire(), 0);
    assert.equal(catalog.listRpoAlerts({ openOnly: true, limit: 10 }).length, 1);
    assert.equal(timers.filter((x) => !x.cancelled).at(-1)?.delayMs, 30_000);
    catalog.insertJob({
      id: 'J1', kind: 'backup', state: 'succeeded', site: 'a', worker: 'agent-1', vm: 'vm1', attempt: 1, params: {}, result: null,
      error: null, progress: null, createdAt: 'x', publishedAt: null, startedAt: null, finishedAt: 'y',
    });
    changes.notify('J1');
    assert.equal(timers.filter((x) => !x.cancelled).at(-1)?.delayMs, 0, 'a finished backup brings the check forward');
    watch.stop();
    assert.equal(timers.filter((x) => !x.cancelled).length, 0);
  });
});
