import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../shared/log.js';
import type { PolicyInput } from '../../shared/messages/policy.js';
import { latestDueMs, nextDueMs, placeInWindow, PolicyScheduler, spreadOffsetMs } from './policy-scheduler.js';
import { removeFixtureDirs, schedulingFixture, type FixtureOptions } from './policy-scheduler.test-fixture.js';
import { PolicyStore } from './policy-store.js';

after(removeFixtureDirs);

const T0 = Date.UTC(2026, 0, 1); // 2026-01-01T00:00Z, 01:00 in Paris (CET, UTC+1)
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

function scheduled(opts: FixtureOptions & { tickMs?: number; prepareLeadMs?: number } = {}) {
  const f = schedulingFixture({ startMs: T0, ...opts });
  const scheduler = new PolicyScheduler({
    catalog: f.catalog,
    jobs: f.jobs,
    changes: f.changes,
    clock: f.clock,
    timer: f.timer,
    log: silentLogger(),
    // Long ticks keep hours of fake time cheap; due times, window ends and backoffs wake it on time.
    tickMs: opts.tickMs ?? 10 * MIN,
    ...(opts.prepareLeadMs !== undefined ? { prepareLeadMs: opts.prepareLeadMs } : {}),
  });
  const advance = (ms: number) => f.timer.advance(ms, () => scheduler.idle());
  const backups = (policy?: string) =>
    f.catalog.listJobs({ kind: 'backup', limit: 1000 }).filter((j) => policy === undefined || j.policy === policy).reverse();
  return { ...f, scheduler, advance, backups };
}

const daily2am: PolicyInput = { name: 'nightly', schedule: { cron: ['0 2 * * *'], timezone: 'Europe/Paris' }, selector: { namePatterns: ['vm*'] } };

describe('policy due times and windows', () => {
  it('computes cron times in the policy time zone, DST included', () => {
    const policy = { schedule: { cron: ['0 2 * * *'], timezone: 'Europe/Paris', mode: 'auto' as const } };
    assert.equal(iso(nextDueMs(policy, T0)!), '2026-01-01T01:00:00.000Z', '02:00 CET');
    assert.equal(iso(nextDueMs(policy, Date.UTC(2026, 5, 30, 12))!), '2026-07-01T00:00:00.000Z', '02:00 CEST');
    assert.equal(latestDueMs(policy, T0, T0 + HOUR - 1), undefined);
    assert.equal(iso(latestDueMs(policy, T0, T0 + HOUR)!), '2026-01-01T01:00:00.000Z', 'due exactly at its time');
    assert.equal(iso(latestDueMs(policy, T0, T0 + 3 * 24 * HOUR)!), '2026-01-03T01:00:00.000Z', 'the newest missed time');
    const twoCrons = { schedule: { cron: ['0 2 * * *', '30 1 * * *'], timezone: 'UTC', mode: 'auto' as const } };
    assert.equal(iso(nextDueMs(twoCrons, T0)!), '2026-01-01T01:30:00.000Z', 'the earliest of several expressions');
  });

  it('places a job in a window spanning midnight (22:00-06:00 Paris)', () => {
    const w = { start: '22:00', end: '06:00' };
    const noon = placeInWindow(w, 'Europe/Paris', Date.UTC(2026, 0, 1, 12));
    assert.deepEqual([iso(noon.notBeforeMs!), iso(noon.startByMs)], ['2026-01-01T21:00:00.000Z', '2026-01-02T05:00:00.000Z']);
    const midnight = placeInWindow(w, 'Europe/Paris', Date.UTC(2026, 0, 1, 23));
    assert.equal(midnight.notBeforeMs, undefined, 'inside: may start at once');
    assert.equal(iso(midnight.startByMs), '2026-01-02T05:00:00.000Z');
    const atOpen = placeInWindow(w, 'Europe/Paris', Date.UTC(2026, 0, 1, 21));
    assert.equal(atOpen.notBeforeMs, undefined, 'the start is inside');
    const atClose = placeInWindow(w, 'Europe/Paris', Date.UTC(2026, 0, 2, 5));
    assert.equal(iso(atClose.notBeforeMs!), '2026-01-02T21:00:00.000Z', 'the end is outside');
    const day = placeInWindow({ start: '09:00', end: '17:00' }, 'UTC', Date.UTC(2026, 0, 1, 18));
    assert.equal(iso(day.notBeforeMs!), '2026-01-02T09:00:00.000Z');
  });
});

describe('spreadOffsetMs', () => {
  it('gives each VM a fixed offset in [0, spread), spread evenly over VMs, and none without a spread', () => {
    assert.equal(spreadOffsetMs('p', 'vm1', 0), 0);
    assert.equal(spreadOffsetMs('p', 'vm1', 60_000), spreadOffsetMs('p', 'vm1', 60_000), 'the same at every run');
    assert.notEqual(spreadOffsetMs('p', 'vm1', 60_000), spreadOffsetMs('q', 'vm1', 60_000), 'per policy');
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) {
      const offset = spreadOffsetMs('p', `vm-${i}`, 1000);
      assert.ok(offset >= 0 && offset < 1000 && Number.isInteger(offset), `offset ${offset} in [0, 1000)`);
      const bucket = Math.floor(offset / 100);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) assert.ok(count > 60 && count < 140, `each tenth of the spread holds about 100 of 1000 VMs: ${buckets.join(' ')}`);
  });
});

describe('PolicyScheduler', () => {
  it('makes a due time\'s jobs prepareLeadMs ahead, held unpublished until the due time, and a restart in between makes none twice', async () => {
    const s = scheduled({ agents: { 'a/agent-1': ['vm1', 'vm2'] }, prepareLeadMs: 500 });
    s.addPolicy({ name: 'hourly', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1', 'vm2'] } });
    s.scheduler.start();
    await s.advance(HOUR - 501);
    assert.equal(s.backups().length, 0, 'nothing before the lead');
    await s.advance(1);
    const made = s.backups();
    assert.deepEqual(made.map((j) => j.vm).sort(), ['vm1', 'vm2']);
    for (const j of made) {
      assert.equal(j.createdAt, iso(T0 + HOUR - 500), 'made at the lead');
      assert.equal(j.dueAt, iso(T0 + HOUR));
      assert.equal(j.notBefore, iso(T0 + HOUR), 'held until its due time');
      assert.equal(j.publishedAt, null);
    }
    assert.equal(s.publisher.sent.length, 0);
    // A restart during the lead: the new scheduler finds the jobs made and the due time fired.
    await s.scheduler.stop();
    const restarted = new PolicyScheduler({ catalog: s.catalog, jobs: s.jobs, changes: s.changes, clock: s.clock, timer: s.timer, log: silentLogger(), tickMs: 10 * MIN, prepareLeadMs: 500 });
    restarted.start();
    await s.timer.advance(499, () => restarted.idle());
    assert.equal(s.publisher.sent.length, 0, 'not before the due time');
    await s.timer.advance(1, () => restarted.idle());
    assert.equal(s.backups().length, 2, 'no second job per VM');
    assert.deepEqual(
      s.backups().map((j) => j.publishedAt),
      [iso(T0 + HOUR), iso(T0 + HOUR)],
      'published at the due instant',
    );
    assert.equal(s.publisher.sent.length, 2);
    await restarted.stop();
  });

  it('cancels the jobs made ahead when their policy is deleted or disabled before they are sent', async () => {
    const s = scheduled({ agents: { 'a/agent-1': ['vm1', 'vm2'] }, limits: { maxJobsPerAgent: 10, maxJobsPerSite: 10 }, prepareLeadMs: 500 });
    const store = new PolicyStore({ catalog: s.catalog, clock: s.clock, log: silentLogger(), jobChanged: (id) => s.changes.notify(id) });
    s.addPolicy({ name: 'gone', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1'] } });
    s.addPolicy({ name: 'off', schedule: { cron: ['0 * * * *'], spreadMs: MIN }, selector: { vms: ['vm2'] } });
    s.scheduler.start();
    await s.advance(HOUR - 500);
    assert.equal(s.backups().length, 2, 'both made ahead');
    store.delete('gone');
    store.update({ ...store.get('off').policy, enabled: false }, store.get('off').updatedAt);
    for (const j of s.backups()) {
      assert.equal(j.state, 'cancelled');
      assert.match(j.error ?? '', new RegExp(`^CANCELLED: its policy ${j.policy ?? ''} was (deleted|disabled) before the job was sent`));
    }
    await s.advance(500 + MIN);
    assert.equal(s.publisher.sent.length, 0, 'nothing sent at the due time');
    await s.scheduler.stop();
  });

  it('spreads a due time\'s jobs over spreadMs: each VM due and published at its own offset, the same every run', async () => {
    const vms = Array.from({ length: 20 }, (_, i) => `vm${i}`);
    const s = scheduled({ agents: { 'a/agent-1': vms }, limits: { maxJobsPerAgent: 100, maxJobsPerSite: 100 }, prepareLeadMs: 500 });
    s.addPolicy({ name: 'spread', schedule: { cron: ['0 * * * *'], spreadMs: MIN }, selector: { namePatterns: ['vm*'] } });
    s.scheduler.start();
    await s.advance(HOUR);
    const first = s.backups();
    assert.equal(first.length, 20, 'every job of the due time is made at once');
    const offsetOf = (vm: string | null) => spreadOffsetMs('spread', vm ?? '', MIN);
    for (const j of first) {
      assert.equal(j.dueAt, iso(T0 + HOUR + offsetOf(j.vm)), 'due at its offset');
      assert.equal(j.notBefore, j.dueAt === iso(T0 + HOUR) ? null : j.dueAt, 'held until then');
    }
    assert.ok(new Set(first.map((j) => j.dueAt)).size > 10, 'spread over distinct times');
    await s.advance(MIN);
    for (const j of s.backups()) assert.equal(j.publishedAt, j.dueAt, `${j.vm ?? ''} published at its own due time`);
    assert.equal(s.publisher.sent.length, 20);
    for (const j of s.backups()) s.finish(j.id, 'succeeded');
    await s.advance(HOUR - MIN);
    const second = s.backups().filter((j) => (j.dueAt ?? '') >= iso(T0 + 2 * HOUR));
    assert.equal(second.length, 20);
    for (const j of second) assert.equal(j.dueAt, iso(T0 + 2 * HOUR + offsetOf(j.vm)), 'the same offset at the next run');
    await s.scheduler.stop();
  });
  it('makes one backup per covered VM at the due time, with the policy, priority, dueAt and retry count', async () => {
    const s = scheduled({ agents: { 'a/agent-1': ['vm1', 'vm2', 'other'] } });
    s.addPolicy({ ...daily2am, priority: 40, retry: { maxAttempts: 4 }, consistency: { mode: 'application', onFailure: 'continue' } });
    s.scheduler.start();
    await s.advance(HOUR - 1);
    assert.equal(s.backups().length, 0, 'nothing before 02:00 Paris');
    await s.advance(1);
    const jobs = s.backups();
    assert.deepEqual(jobs.map((j) => j.vm).sort(), ['vm1', 'vm2']);
    for (const j of jobs) {
      assert.equal(j.policy, 'nightly');
      assert.equal(j.priority, 40);
      assert.equal(j.maxAttempts, 4);
      assert.equal(j.dueAt, '2026-01-01T01:00:00.000Z');
      assert.equal(j.publishedAt, '2026-01-01T01:00:00.000Z', 'published at its due time');
      assert.deepEqual((j.params as { consistency?: unknown }).consistency, { mode: 'application', onFailure: 'continue' });
    }
    assert.equal(s.publisher.sent[0]?.job.dueAt, '2026-01-01T01:00:00.000Z', 'the message carries the schedule time');
    await s.scheduler.stop();
  });

  it('makes one snapshot create per covered VM for a snapshot policy, keeping snapshotKeep, with no follow-ups', async () => {
    const s = scheduled({ agents: { 'a/agent-1': ['vm1', 'vm2', 'other'] } });
    s.addPolicy({ name: 'snaps', action: 'snapshot', snapshotKeep: 3, priority: 30, schedule: { cron: ['0 * * * *'] }, selector: { namePatterns: ['vm*'] } });
    s.scheduler.start();
    await s.advance(HOUR);
    const snaps = s.catalog.listJobs({ kind: 'snapshot', limit: 100 });
    assert.deepEqual(snaps.map((j) => j.vm).sort(), ['vm1', 'vm2']);
    for (const j of snaps) {
      assert.deepEqual(j.params, { vm: j.vm, op: 'create', keep: 3 });
      assert.equal(j.policy, 'snaps');
      assert.equal(j.priority, 30);
      assert.equal(j.dueAt, iso(T0 + HOUR));
      assert.equal(j.publishedAt, iso(T0 + HOUR), 'published at its due time');
    }
    assert.equal(s.backups().length, 0, 'no backups');
    for (const j of snaps) {
      s.start(j.id);
      s.finish(j.id, 'succeeded');
    }
    await s.advance(1);
    const kinds = s.catalog.listJobs({ limit: 100 }).map((j) => j.kind);
    assert.deepEqual(kinds, ['snapshot', 'snapshot'], 'no prune or sync follows a snapshot job');
    await s.advance(HOUR);
    assert.equal(s.catalog.listJobs({ kind: 'snapshot', limit: 100 }).length, 4, 'the next due time makes the next snapshots');
    await s.scheduler.stop();
  });

  it('fires every policy due in the same round together, one job per (policy, VM)', async () => {
    const s = scheduled({ agents: { 'a/agent-1': ['vm1', 'vm2'] }, limits: { maxJobsPerAgent: 10, maxJobsPerSite: 10 } });
    s.addPolicy({ name: 'b', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1'] } });
    s.addPolicy({ name: 's', action: 'snapshot', snapshotKeep: 1, schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1', 'vm2', 'gone'] } });
    s.scheduler.start();
    await s.advance(HOUR);
    assert.deepEqual(s.backups('b').map((j) => j.vm), ['vm1']);
    assert.deepEqual(s.catalog.listJobs({ kind: 'snapshot', limit: 100 }).map((j) => j.vm).sort(), ['vm1', 'vm2'], 'a VM not in the inventory is not covered');
    assert.equal(s.publisher.sent.length, 3, 'all published in the due round');
    await s.scheduler.stop();
  });

  it('coalesces: no new job for a VM while its job of the policy is queued or running', async () => {
    const s = scheduled();
    s.addPolicy({ name: 'often', schedule: { cron: ['* * * * *'] }, selector: { vms: ['vm1'] } });
    s.scheduler.start();
    await s.advance(MIN);
    const [first] = s.backups();
    assert.ok(first);
    s.start(first.id);
    await s.advance(3 * MIN);
    assert.equal(s.backups().length, 1, 'three due times passed while it ran');
    s.finish(first.id, 'succeeded');
    await s.advance(MIN);
    assert.equal(s.backups().length, 2);
    await s.scheduler.stop();
  });

  it('after downtime makes one catch-up job per VM, and a restart never fires a due time twice', async () => {
    const s = scheduled();
    s.addPolicy({ name: 'ten', schedule: { cron: ['*/10 * * * *'] }, selector: { vms: ['vm1', 'vm2'] } });
    s.scheduler.start();
    await s.advance(10 * MIN);
    assert.equal(s.backups().length, 2);
    for (const j of s.backups()) s.finish(j.id, 'succeeded');
    await s.scheduler.stop();
    s.catalog.close();

    // Down for an hour: six due times missed.
    const restarted = scheduled({ dbPath: s.dbPath, startMs: T0 + 10 * MIN + HOUR + 5 * MIN });
    restarted.scheduler.start();
    await restarted.advance(0);
    const jobs = restarted.backups();
    assert.equal(jobs.length, 4, 'one catch-up job per VM');
    assert.deepEqual(jobs.slice(2).map((j) => j.dueAt), ['2026-01-01T01:10:00.000Z', '2026-01-01T01:10:00.000Z'], 'due at the newest missed time');
    for (const j of jobs.slice(2)) restarted.finish(j.id, 'succeeded');
    await restarted.scheduler.stop();
    restarted.catalog.close();

    const again = scheduled({ dbPath: s.dbPath, startMs: T0 + 10 * MIN + HOUR + 6 * MIN });
    again.scheduler.start();
    await again.advance(0);
    assert.equal(again.backups().length, 4, 'a restart without a new due time makes nothing');
    await again.advance(4 * MIN);
    assert.equal(again.backups().length, 6, 'the next due time fires as usual');
    await again.scheduler.stop();
  });

  it('picks up policies created, edited and deleted while it runs, without firing an edited schedule retroactively', async () => {
    const s = scheduled();
    s.scheduler.start();
    await s.advance(1000);
    const created = s.addPolicy({ name: 'late', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1'] } });
    await s.advance(HOUR);
    assert.equal(s.backups('late').length, 1);
    s.finish(s.backups('late')[0]!.id, 'succeeded');
    // Every minute from now on: the minutes since the last run (01:00) are not "missed".
    s.clock.advance(30 * MIN);
    s.catalog.updatePolicy({ ...created.policy, schedule: { ...created.policy.schedule, cron: ['* * * * *'] } }, s.clock.nowIso());
    await s.advance(1000);
    assert.equal(s.backups('late').length, 1, 'no run for the minutes before the edit');
    await s.advance(MIN);
    assert.equal(s.backups('late').length, 2);
    s.finish(s.backups('late')[1]!.id, 'succeeded');
    s.catalog.deletePolicy('late');
    await s.advance(5 * MIN);
    assert.equal(s.backups('late').length, 2, 'a deleted policy makes nothing');
    await s.scheduler.stop();
  });

  it('holds a job due outside its window until the window opens, and skips it when the window ends first', async () => {
    const s = scheduled({ limits: { maxJobsPerAgent: 1, maxJobsPerSite: 8 } });
    s.addPolicy({
      name: 'night',
      schedule: { cron: ['0 12 * * *'], timezone: 'Europe/Paris', window: { start: '22:00', end: '06:00' } },
      selector: { vms: ['vm1', 'vm2'] },
    });
    s.scheduler.start();
    await s.advance(10 * HOUR); // 11:00 Paris, due 12:00 Paris = 11:00Z
    await s.advance(HOUR);
    const jobs = s.backups();
    assert.equal(jobs.length, 2);
    for (const j of jobs) {
      assert.equal(j.notBefore, '2026-01-01T21:00:00.000Z');
      assert.equal(j.startBy, '2026-01-02T05:00:00.000Z');
      assert.equal(j.publishedAt, null, 'held until 22:00 Paris');
    }
    await s.advance(10 * HOUR);
    const [first, second] = s.backups();
    assert.equal(first?.publishedAt, '2026-01-01T21:00:00.000Z', 'published as the window opens');
    assert.equal(second?.publishedAt, null, 'one slot at the agent');
    s.start(first.id);
    await s.advance(8 * HOUR); // past 06:00 Paris: the first still runs, the second never started
    const skipped = s.catalog.getJob(second.id)!;
    assert.equal(skipped.state, 'skipped');
    assert.match(skipped.error ?? '', /start window ended at 2026-01-02T05:00:00.000Z/);
    assert.equal(s.catalog.getJob(first.id)!.state, 'running', 'a started job is left to finish');
    await s.scheduler.stop();
  });

  it('never skips a job whose publish is in flight when its window ends: it was sent, and runs', async () => {
    const s = scheduled({ limits: { maxJobsPerAgent: 1, maxJobsPerSite: 8 } });
    s.addPolicy({ name: 'night', schedule: { cron: ['0 21 * * *'], window: { start: '21:00', end: '22:00' } }, selector: { vms: ['vm1', 'vm2'] } });
    s.scheduler.start();
    await s.advance(21 * HOUR);
    const [first, second] = s.backups();
    assert.ok(first && second);
    assert.equal(second.publishedAt, null, 'held by the one slot');
    s.start(first.id);
    await s.advance(HOUR - 10);
    // The first ends 10 ms before the window does: the freed slot sends the second, whose ack is
    // still in flight when the window ends and the scheduler looks for jobs to skip (as a round
    // does while a release or slot-freed pass is out).
    const release = s.publisher.hold();
    s.finish(first.id, 'succeeded');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(s.publisher.sent.at(-1)?.job.jobId, second.id, 'sent before the window ended');
    assert.equal(s.jobs.isPublishing(second.id), true);
    s.clock.advance(10 * MIN);
    (s.scheduler as unknown as { skipClosedWindows(): number }).skipClosedWindows();
    assert.equal(s.catalog.getJob(second.id)?.state, 'queued', 'not skipped while its publish is in flight');
    release();
    await s.jobs.publishPending(); // after the pass in flight
    const sent = s.catalog.getJob(second.id);
    assert.equal(sent?.state, 'queued', 'published, for its worker to run');
    assert.notEqual(sent?.publishedAt, null);
    assert.equal(s.jobs.isPublishing(second.id), false, 'marked published');
    await s.scheduler.stop();
  });

  it('publishes held jobs by priority as slots free, within per-agent and per-site limits', async () => {
    const s = scheduled({
      limits: { maxJobsPerAgent: 1, maxJobsPerSite: 2 },
      agents: { 'a/agent-1': ['a1', 'a2'], 'a/agent-2': ['b1', 'b2'], 'a/agent-3': ['c1'] },
    });
    s.addPolicy({ name: 'low', priority: 10, schedule: { cron: ['0 * * * *'] }, selector: { namePatterns: ['*2'] } });
    s.addPolicy({ name: 'high', priority: 90, schedule: { cron: ['0 * * * *'] }, selector: { namePatterns: ['*1'] } });
    s.scheduler.start();
    await s.advance(HOUR);
    const inFlight = () => s.catalog.listInFlightJobs();
    assert.equal(inFlight().length, 2, 'the site limit');
    assert.deepEqual(inFlight().map((j) => j.policy), ['high', 'high'], 'higher priority first');
    assert.equal(new Set(inFlight().map((j) => j.worker)).size, 2, 'one per agent');
    // Finishing jobs frees slots: each pass publishes the best waiting job an agent can take.
    const order: string[] = [];
    for (let i = 0; i < 10 && s.backups().some((j) => j.state === 'queued'); i++) {
      const [done] = inFlight();
      assert.ok(done);
      s.finish(done.id, 'succeeded');
      // Wait for the dispatch pass the finish started (releaseSlotsOnFinish).
      await s.jobs.publishPending();
      for (const j of inFlight()) if (!order.includes(j.vm ?? '')) order.push(j.vm ?? '');
      assert.ok(inFlight().length <= 2);
      const perAgent = new Map<string, number>();
      for (const j of inFlight()) perAgent.set(j.worker, (perAgent.get(j.worker) ?? 0) + 1);
      assert.ok([...perAgent.values()].every((n) => n <= 1));
    }
    assert.equal(order.indexOf('c1') < order.indexOf('a2') && order.indexOf('c1') < order.indexOf('b2'), true, `c1 (high) before the low ones: ${order.join(',')}`);
    await s.scheduler.stop();
  });

  it('follows a policy backup with a prune at its storage and a coalesced sync to each replica, then a prune at the replica', async () => {
    const s = scheduled();
    s.addPolicy({ name: 'kept', schedule: { cron: ['0 * * * *'] }, selector: { vms: ['vm1', 'vm2'] }, retention: { last: 3 }, replicaSites: ['b'] });
    s.scheduler.start();
    await s.advance(HOUR);
    const [b1, b2] = s.backups();
    s.finish(b1!.id, 'succeeded');
    s.finish(b2!.id, 'succeeded');
    await s.scheduler.idle();
    const others = () => s.catalog.listJobs({ limit: 100 }).filter((j) => j.kind !== 'backup').reverse();
    assert.deepEqual(
      others().map((j) => `${j.kind}@${j.site}:${j.vm ?? ''}`).sort(),
      ['prune@a:vm1', 'prune@a:vm2', 'sync@b:'],
      'one sync for the two backups: the second found it queued',
    );
    for (const j of others()) {
      assert.equal(j.policy, 'kept');
      if (j.kind === 'prune') assert.deepEqual((j.params as { keep: unknown }).keep, { last: 3 });
    }
    const sync = others().find((j) => j.kind === 'sync')!;
    s.catalog.insertBackup({
      backupId: 'B1', site: 'b', vm: 'vm1', createdAt: s.clock.nowIso(), mode: 'full', parentBackupId: null, jobId: b1!.id,
      sizeBytes: 1, disks: [], verifiedAt: null, state: 'ok', stateAt: null, lockedUntil: null, prunedAt: null, seenAt: null,
    });
    s.finish(sync.id, 'succeeded');
    await s.scheduler.idle();
    assert.deepEqual(others().slice(3).map((j) => `${j.kind}@${j.site}:${j.vm ?? ''}`), ['prune@b:vm1'], 'the replica prunes what it holds');
    await s.scheduler.stop();
  });
});
