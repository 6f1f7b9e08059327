/**
 * The applier's half of repair and self-healing: `repair`, `alert.raised` and `alert.resolved`
 * events from storages, applied to a real SQLite catalog in every order they may arrive in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { AffectedRange, DamageAlert, RepairRecord, WorkerEvent } from '../../shared/messages/events.js';
import type { VerifyResult } from '../../shared/messages/results.js';
import { SeededBytes } from '../../shared/seeded-bytes.js';
import type { BackupRow } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { EventApplier } from './event-applier.js';
import { JobChangeFeed } from './job-change-feed.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

const copy = (backupId: string, site: string, vm = 'vm1'): BackupRow => ({
  backupId,
  site,
  vm,
  createdAt: at(0),
  mode: 'full',
  parentBackupId: null,
  jobId: 'J0',
  sizeBytes: 4 << 20,
  disks: [{ name: 'disk0', sizeBytes: 4 << 20 }],
  verifiedAt: null,
  state: 'ok',
  stateAt: null,
  lockedUntil: null,
  prunedAt: null,
  seenAt: null,
});

/** B1 and B2 at sites a and b; an in-memory catalog when a test makes many. */
function setup(inMemory = false) {
  const catalog = SqliteCatalog.open(inMemory ? ':memory:' : join(dir, `c${++n}.db`));
  const applier = new EventApplier({ catalog, changes: new JobChangeFeed(), clock: new ManualClock(), log: silentLogger() });
  for (const id of ['B1', 'B2']) for (const site of ['a', 'b']) catalog.insertBackup(copy(id, site));
  const state = (backupId: string, site = 'a') => catalog.getBackupCopy(backupId, site)?.state;
  return { catalog, applier, state };
}

const range = (backupId: string, offsetBytes = 1 << 20): AffectedRange => ({ backupId, vm: 'vm1', disk: 'disk0', offsetBytes, lengthBytes: 1 << 20 });

const alert = (alertId: string, backupIds: string[], minute: number, site = 'a'): DamageAlert => ({
  alertId,
  site,
  object: 'chunk',
  digest: 'ab'.repeat(32),
  backupId: null,
  disk: null,
  problem: 'crc mismatch',
  peersTried: [{ site: 'b', error: 'chunk missing' }],
  raisedAt: at(minute),
  affected: backupIds.map((id) => range(id)),
  message: `vm1/disk0 bytes 1048576-2097151 cannot be restored from site ${site}`,
});

const raised = (eventId: string, a: DamageAlert): WorkerEvent => ({
  eventId,
  site: a.site,
  worker: 'storage',
  at: a.raisedAt,
  type: 'alert.raised',
  alert: a,
});

const resolved = (eventId: string, alertId: string, minute: number, reason = 'chunk re-sent by a backup', site = 'a'): WorkerEvent => ({
  eventId,
  site,
  worker: 'storage',
  at: at(minute),
  type: 'alert.resolved',
  alertId,
  reason,
});

const repairRecord = (repairId: string, minute: number, over: Partial<RepairRecord> = {}): RepairRecord => ({
  repairId,
  site: 'a',
  object: 'chunk',
  digest: 'cd'.repeat(32),
  backupId: null,
  disk: null,
  problem: 'missing',
  trigger: 'verify',
  peer: 'b',
  bytes: 1 << 20,
  at: at(minute),
  affected: [range('B1'), range('B2')],
  ...over,
});

const repairEvent = (r: RepairRecord, eventId = r.repairId): WorkerEvent => ({
  eventId,
  site: r.site,
  worker: 'storage',
  at: r.at,
  type: 'repair',
  repair: r,
});

/** A verify job at site a that found `damaged` unrepaired and everything else in `verified` sound, at `minute`. */
function verifyEvent(catalog: SqliteCatalog, id: string, minute: number, verified: string[], damaged: string[] = []): WorkerEvent {
  catalog.insertJob({
    id,
    kind: 'verify',
    state: 'queued',
    site: 'a',
    worker: 'storage',
    vm: null,
    attempt: 1,
    params: {},
    result: null,
    error: null,
    progress: null,
    createdAt: at(0),
    publishedAt: at(0),
    startedAt: null,
    finishedAt: null,
  });
  const result: VerifyResult = {
    site: 'a',
    backupsChecked: verified.length,
    chunksChecked: 1,
    bytesChecked: 1,
    damagedFiles: [],
    chunks: damaged.map((backupId) => ({
      digest: 'ef'.repeat(32),
      problem: 'crc',
      outcome: 'unrepaired',
      peer: null,
      bytes: 1,
      backups: [{ backupId, vm: 'vm1', disk: 'disk0', offsetBytes: 0 }],
    })),
    repaired: 0,
    unrepaired: damaged.length,
    verifiedBackupIds: verified,
    verifiedAt: at(minute),
    skippedBackupIds: [],
    durationMs: 1,
  };
  return { eventId: `E-${id}`, site: 'a', worker: 'storage', at: at(minute), jobId: id, attempt: 1, type: 'job.succeeded', outcome: { kind: 'verify', result } };
}

/** `count` seeded random orders of 0..n-1 (Fisher-Yates), the identity and its reverse first. */
function shuffledOrders(n: number, count: number, seed: string): number[][] {
  const rng = new SeededBytes(seed);
  const identity = Array.from({ length: n }, (_, i) => i);
  const orders = [identity, [...identity].reverse()];
  while (orders.length < count) {
    const order = [...identity];
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    orders.push(order);
  }
  return orders;
}

describe('EventApplier: repairs and damage alerts', () => {
  it('records a repair once: a replayed event and a re-sent record under a new event id add nothing', () => {
    const { catalog, applier, state } = setup();
    const r = repairRecord('R1', 5);
    assert.equal(applier.apply(repairEvent(r)), true);
    assert.equal(applier.apply(repairEvent(r)), false, 'the same event again is a no-op');
    assert.equal(applier.apply(repairEvent(r, 'R1-resent')), true, 'a new event id is applied…');
    assert.deepEqual(catalog.listRepairs({ limit: 10 }), [r], '…but the repair is recorded once, every field kept');
    assert.equal(state('B1'), 'ok', 'a repair changes no backup state');
  });

  it('normalises a repair time without milliseconds to the catalog format', () => {
    const { catalog, applier } = setup();
    applier.apply(repairEvent(repairRecord('R1', 5, { at: '2026-01-01T00:05:00Z' })));
    assert.equal(catalog.listRepairs({ limit: 1 })[0]?.at, at(5));
  });

  it('an open alert marks the copies it covers at its site damaged; its resolution makes them ok', () => {
    const { catalog, applier, state } = setup();
    assert.equal(applier.apply(raised('E1', alert('A1', ['B1'], 5))), true);
    assert.equal(state('B1'), 'damaged');
    assert.equal(catalog.getBackupCopy('B1', 'a')?.stateAt, at(5));
    assert.equal(state('B2'), 'ok', 'a backup the alert does not name');
    assert.equal(state('B1', 'b'), 'ok', "the copy at another site");
    assert.equal(catalog.getAlert('A1')?.state, 'open');

    assert.equal(applier.apply(resolved('E2', 'A1', 7)), true);
    assert.equal(state('B1'), 'ok');
    const row = catalog.getAlert('A1');
    assert.equal(row?.state, 'resolved');
    assert.equal(row?.resolvedAt, at(7));
    assert.equal(row?.resolution, 'chunk re-sent by a backup');
    assert.deepEqual(catalog.listAlerts({ openOnly: true, limit: 10 }), []);
  });

  it('a resolution that arrives before its alert: the alert enters resolved and the copy ends ok', () => {
    const { catalog, applier, state } = setup();
    assert.equal(applier.apply(resolved('E2', 'A1', 7)), true);
    assert.equal(catalog.getAlert('A1'), undefined);
    assert.equal(applier.apply(raised('E1', alert('A1', ['B1'], 5))), true);
    assert.equal(catalog.getAlert('A1')?.state, 'resolved');
    assert.equal(catalog.getAlert('A1')?.resolvedAt, at(7));
    assert.equal(state('B1'), 'ok');
    assert.deepEqual(catalog.listAlerts({ openOnly: true, limit: 10 }), []);
    assert.equal(catalog.listAlerts({ openOnly: false, limit: 10 }).length, 1);
  });

  it('a re-raised alert and a second resolution change nothing; replays are no-ops', () => {
    const { catalog, applier, state } = setup();
    applier.apply(raised('E1', alert('A1', ['B1'], 5)));
    assert.equal(applier.apply(raised('E1b', { ...alert('A1', ['B1', 'B2'], 6), message: 'again' })), true);
    assert.equal(catalog.getAlert('A1')?.message, alert('A1', ['B1'], 5).message, 'the first raise is kept');
    assert.equal(state('B2'), 'ok', 'a re-raise covers nothing new');
    applier.apply(resolved('E2', 'A1', 7, 'repaired from b'));
    applier.apply(resolved('E3', 'A1', 9, 'affected backups pruned'));
    assert.equal(catalog.getAlert('A1')?.resolution, 'repaired from b', 'the first resolution wins');
    assert.equal(catalog.getAlert('A1')?.resolvedAt, at(7));
    const before = { alerts: catalog.listAlerts({ openOnly: false, limit: 10 }), backups: catalog.listBackups({}) };
    for (const e of [raised('E1', alert('A1', ['B1'], 5)), resolved('E2', 'A1', 7), raised('E1b', alert('A1', ['B1'], 6))]) {
      assert.equal(applier.apply(e), false);
    }
    assert.deepEqual({ alerts: catalog.listAlerts({ openOnly: false, limit: 10 }), backups: catalog.listBackups({}) }, before);
  });

  it('a copy stays damaged while any open alert covers it', () => {
    const { applier, state } = setup();
    applier.apply(raised('E1', alert('A1', ['B1'], 5)));
    applier.apply(raised('E2', alert('A2', ['B1', 'B2'], 6)));
    applier.apply(resolved('E3', 'A1', 7));
    assert.equal(state('B1'), 'damaged', 'A2 still covers B1');
    assert.equal(state('B2'), 'damaged');
    applier.apply(resolved('E4', 'A2', 8));
    assert.equal(state('B1'), 'ok');
    assert.equal(state('B2'), 'ok');
  });

  it('a verify finding the copy sound does not hide an open alert; a verify finding it damaged is not undone by an older resolution', () => {
    const { catalog, applier, state } = setup();
    applier.apply(raised('E1', alert('A1', ['B1'], 5)));
    applier.apply(verifyEvent(catalog, 'V1', 6, ['B1']));
    assert.equal(state('B1'), 'damaged', 'the alert is open');
    assert.equal(catalog.getBackupCopy('B1', 'a')?.verifiedAt, at(6));
    applier.apply(resolved('E2', 'A1', 7));
    assert.equal(state('B1'), 'ok');

    const other = setup();
    other.applier.apply(verifyEvent(other.catalog, 'V1', 9, ['B2'], ['B2']));
    other.applier.apply(raised('E1', alert('A1', ['B2'], 5)));
    other.applier.apply(resolved('E2', 'A1', 7));
    assert.equal(other.state('B2'), 'damaged', 'the verify at minute 9 is the newest finding');
  });

  it('ends in the same state whatever order the events arrive in (seeded orders)', () => {
    const { catalog: c0 } = setup();
    const events = (catalog: SqliteCatalog): WorkerEvent[] => [
      raised('E1', alert('A1', ['B1'], 5)),
      resolved('E2', 'A1', 8),
      raised('E3', alert('A2', ['B2'], 6)),
      verifyEvent(catalog, 'V1', 7, ['B1', 'B2']),
      repairEvent(repairRecord('R1', 6)),
      resolved('E4', 'A3', 9),
      raised('E5', alert('A3', ['B1'], 4, 'b')),
    ];
    const outcome = (catalog: SqliteCatalog) => ({
      states: catalog.listBackups({}).map((b) => `${b.backupId}@${b.site}:${b.state}`),
      alerts: catalog.listAlerts({ openOnly: false, limit: 10 }).map((a) => `${a.alertId}:${a.state}:${a.resolvedAt ?? ''}`),
      repairs: catalog.listRepairs({ limit: 10 }).length,
    });
    const expected = {
      states: ['B1@a:ok', 'B1@b:ok', 'B2@a:damaged', 'B2@b:ok'],
      alerts: [`A1:resolved:${at(8)}`, 'A2:open:', `A3:resolved:${at(9)}`],
      repairs: 1,
    };
    c0.close();
    for (const order of shuffledOrders(7, 300, 'alert-orders')) {
      const { catalog, applier } = setup(true);
      const list = events(catalog);
      for (const i of order) applier.apply(list[i]!);
      const got = outcome(catalog);
      got.states.sort();
      got.alerts.sort();
      assert.deepEqual(got, expected, `order ${order.join(',')}`);
      catalog.close();
    }
  });
});
