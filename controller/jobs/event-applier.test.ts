import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { JobResult, WorkerEvent } from '../../shared/messages/events.js';
import type { BackupRecord, PruneDecision, VerifyResult } from '../../shared/messages/results.js';
import type { JobRow } from '../catalog/catalog.js';
import { SqliteCatalog } from '../catalog/sqlite-catalog.js';
import { EventApplier } from './event-applier.js';
import { JobChangeFeed } from './job-change-feed.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const catalog = SqliteCatalog.open(join(dir, `c${++n}.db`));
  const changes = new JobChangeFeed();
  const applier = new EventApplier({ catalog, changes, clock: new ManualClock(), log: silentLogger() });
  return { catalog, changes, applier };
}

const jobRow = (id: string, kind: JobRow['kind'], over: Partial<JobRow> = {}): JobRow => ({
  id,
  kind,
  state: 'queued',
  site: 'a',
  worker: 'agent-1',
  vm: 'vm1',
  attempt: 1,
  params: {},
  result: null,
  error: null,
  progress: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  publishedAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  ...over,
});

const record = (backupId: string, site: string): BackupRecord => ({
  backupId,
  vm: 'vm1',
  site,
  createdAt: '2026-01-01T00:00:05.000Z',
  mode: 'full',
  parentBackupId: null,
  jobId: 'J1',
  sizeBytes: 2048,
  disks: [{ name: 'root', sizeBytes: 2048 }],
});

const base = (eventId: string, jobId: string, second: number) => ({
  eventId,
  site: 'a',
  worker: 'agent-1',
  at: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`,
  jobId,
  attempt: 1,
});

const started = (eventId: string, jobId: string): WorkerEvent => ({ ...base(eventId, jobId, 1), type: 'job.started' });
const progress = (eventId: string, jobId: string, second: number, doneBytes: number): WorkerEvent => ({
  ...base(eventId, jobId, second),
  type: 'job.progress',
  phase: 'upload',
  doneBytes,
  totalBytes: 100,
});
const backupSucceeded = (eventId: string, jobId: string, backupId: string, alreadyCommitted = false): WorkerEvent => ({
  ...base(eventId, jobId, 9),
  type: 'job.succeeded',
  outcome: {
    kind: 'backup',
    result: {
      backup: record(backupId, 'a'),
      alreadyCommitted,
      bytesRead: 2048,
      chunksTotal: 2,
      chunksZero: 0,
      chunksSent: 2,
      bytesSent: 2048,
      durationMs: 10,
    },
  },
});

describe('EventApplier', () => {
  it('applies each event once: a replay changes nothing', () => {
    const { catalog, applier } = setup();
    catalog.insertJob(jobRow('J1', 'backup'));
    const events = [started('E1', 'J1'), progress('E2', 'J1', 2, 50), backupSucceeded('E3', 'J1', 'B1')];
    assert.deepEqual(events.map((e) => applier.apply(e)), [true, true, true]);
    const afterFirst = catalog.getJob('J1');
    assert.deepEqual(events.map((e) => applier.apply(e)), [false, false, false]);
    assert.deepEqual(catalog.getJob('J1'), afterFirst);
    assert.equal(afterFirst?.state, 'succeeded');
    assert.equal(afterFirst?.startedAt, '2026-01-01T00:00:01.000Z');
    assert.equal(afterFirst?.finishedAt, '2026-01-01T00:00:09.000Z');
    assert.equal((afterFirst?.result as { backup: { backupId: string } }).backup.backupId, 'B1');
    assert.equal(catalog.listBackups({}).length, 1);
  });

  it('tolerates any order: every permutation ends succeeded with one backup row', () => {
    const events = [started('E1', 'J1'), progress('E2', 'J1', 2, 50), progress('E3', 'J1', 3, 90), backupSucceeded('E4', 'J1', 'B1')];
    const permutations = (xs: WorkerEvent[]): WorkerEvent[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const order of permutations(events)) {
      const { catalog, applier } = setup();
      catalog.insertJob(jobRow('J1', 'backup'));
      for (const e of order) applier.apply(e);
      // A redelivered job re-reports its committed backup under a new event id.
      applier.apply(backupSucceeded('E5', 'J1', 'B1', true));
      const job = catalog.getJob('J1');
      assert.equal(job?.state, 'succeeded', order.map((e) => e.eventId).join());
      assert.equal(catalog.getBackupCopies('B1').length, 1);
      catalog.close();
    }
  });

  it('keeps the newest progress and never moves a finished job back', () => {
    const { catalog, applier } = setup();
    catalog.insertJob(jobRow('J1', 'backup'));
    applier.apply(progress('E3', 'J1', 3, 90));
    applier.apply(progress('E2', 'J1', 2, 50));
    assert.equal(catalog.getJob('J1')?.progress?.doneBytes, 90);
    applier.apply({ ...base('E4', 'J1', 4), type: 'job.failed', error: { code: 'UNAVAILABLE', message: 'storage gone' } });
    applier.apply(started('E1', 'J1'));
    applier.apply(backupSucceeded('E5', 'J1', 'B1'));
    const job = catalog.getJob('J1');
    assert.equal(job?.state, 'failed');
    assert.equal(job?.error, 'UNAVAILABLE: storage gone');
    assert.equal(catalog.listBackups({}).length, 0);
  });

  it('ignores events of unknown jobs and of other attempts, but remembers them', () => {
    const { catalog, applier } = setup();
    assert.equal(applier.apply(started('E1', 'nope')), true);
    catalog.insertJob(jobRow('J1', 'backup', { attempt: 2 }));
    applier.apply(started('E2', 'J1'));
    assert.equal(catalog.getJob('J1')?.state, 'queued');
    assert.equal(applier.apply(started('E2', 'J1')), false);
  });

  it('records synced copies at the replica and verification at the verified site', () => {
    const { catalog, applier } = setup();
    catalog.insertJob(jobRow('J1', 'backup'));
    applier.apply(backupSucceeded('E1', 'J1', 'B1'));
    catalog.insertJob(jobRow('S1', 'sync', { site: 'b', worker: 'storage', vm: null }));
    const syncDone: WorkerEvent = {
      ...base('E2', 'S1', 20),
      site: 'b',
      worker: 'storage',
      type: 'job.succeeded',
      outcome: {
        kind: 'sync',
        result: { sourceSite: 'a', site: 'b', copied: [record('B1', 'a')], backupsAlreadyPresent: 0, backupsPrunedAtReplica: 0, failed: [], chunksCopied: 2, bytesCopied: 2048, resumes: 0, mode: 'pull', durationMs: 5 },
      },
    };
    applier.apply(syncDone);
    applier.apply({ ...syncDone, eventId: 'E2-again' });
    assert.deepEqual(catalog.getBackupCopies('B1').map((b) => b.site), ['a', 'b']);

    catalog.insertJob(jobRow('V1', 'verify', { site: 'a', worker: 'storage', vm: null }));
    applier.apply({
      ...base('E3', 'V1', 30),
      worker: 'storage',
      type: 'job.succeeded',
      outcome: {
        kind: 'verify',
        result: {
          site: 'a',
          backupsChecked: 1,
          chunksChecked: 2,
          bytesChecked: 2048,
          damagedFiles: [],
          chunks: [],
          repaired: 0,
          unrepaired: 0,
          verifiedBackupIds: ['B1'],
          verifiedAt: null,
          skippedBackupIds: [],
          durationMs: 3,
        },
      },
    });
    const copies = catalog.getBackupCopies('B1');
    assert.equal(copies.find((c) => c.site === 'a')?.verifiedAt, '2026-01-01T00:00:30.000Z');
    assert.equal(copies.find((c) => c.site === 'b')?.verifiedAt, null);
  });

  it('upserts the VMs of an inventory and notifies job watchers after commit', () => {
    const { catalog, applier, changes } = setup();
    applier.apply({
      eventId: 'I1',
      site: 'a',
      worker: 'agent-1',
      at: '2026-01-01T00:00:00.000Z',
      type: 'inventory',
      vms: [{ name: 'vm1', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 1 << 20 }] }],
    });
    assert.equal(catalog.getVm('vm1')?.worker, 'agent-1');
    catalog.insertJob(jobRow('J1', 'backup'));
    const seen: (string | undefined)[] = [];
    changes.subscribe('J1', () => seen.push(catalog.getJob('J1')?.state));
    applier.apply(started('E1', 'J1'));
    applier.apply(started('E1', 'J1'));
    assert.deepEqual(seen, ['running']);
  });

  describe('storage job results', () => {
    const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
    /** A storage job at `site` and its success event at minute `minute`. */
    const storageJob = (catalog: SqliteCatalog, id: string, kind: JobRow['kind'], site = 'a') =>
      catalog.insertJob(jobRow(id, kind, { site, worker: 'storage', vm: null }));
    const succeeded = (eventId: string, jobId: string, minute: number, outcome: JobResult, site = 'a'): WorkerEvent => ({
      eventId,
      site,
      worker: 'storage',
      at: at(minute),
      jobId,
      attempt: 1,
      type: 'job.succeeded',
      outcome,
    });
    const decision = (backupId: string, keptBy: string[] = []): PruneDecision => ({ backupId, vm: 'vm1', createdAt: at(0), keptBy });
    const prune = (removed: string[], dryRun = false, site = 'a'): JobResult => ({
      kind: 'prune',
      result: { site, dryRun, kept: [decision('B3', ['last 1'])], removed: removed.map((id) => decision(id)), durationMs: 1 },
    });
    const sync = (copied: string[]): JobResult => ({
      kind: 'sync',
      result: { sourceSite: 'a', site: 'b', copied: copied.map((id) => record(id, 'a')), backupsAlreadyPresent: 0, backupsPrunedAtReplica: 0, failed: [], chunksCopied: 0, bytesCopied: 0, resumes: 0, mode: 'pull', durationMs: 1 },
    });
    const verify = (over: Partial<VerifyResult>): JobResult => ({
      kind: 'verify',
      result: {
        site: 'a',
        backupsChecked: 1,
        chunksChecked: 1,
        bytesChecked: 1,
        damagedFiles: [],
        chunks: [],
        repaired: 0,
        unrepaired: 0,
        verifiedBackupIds: [],
        verifiedAt: null,
        skippedBackupIds: [],
        durationMs: 1,
        ...over,
      },
    });
    const lock = (until: string, site = 'a'): JobResult => ({ kind: 'lock', result: { site, backupId: 'B1', lockedUntil: until } });
    const withBackups = (...ids: string[]) => {
      const s = setup();
      for (const id of ids) s.catalog.insertBackup({ ...record(id, 'a'), site: 'a', verifiedAt: null, state: 'ok', stateAt: null, lockedUntil: null, prunedAt: null, seenAt: null });
      return s;
    };
    const present = (catalog: SqliteCatalog, site = 'a') => catalog.listBackups({ site }).map((b) => b.backupId).sort();

    it('a prune marks what it removed as pruned at its site (rows kept), once; a dry run changes nothing', () => {
      const { catalog, applier } = withBackups('B1', 'B2', 'B3');
      storageJob(catalog, 'D1', 'prune');
      applier.apply(succeeded('E1', 'D1', 1, prune(['B1', 'B2'], true)));
      assert.deepEqual(present(catalog), ['B1', 'B2', 'B3']);
      assert.equal(catalog.getJob('D1')?.state, 'succeeded');

      storageJob(catalog, 'P1', 'prune');
      const event = succeeded('E2', 'P1', 2, prune(['B1', 'B2']));
      assert.equal(applier.apply(event), true);
      assert.deepEqual(present(catalog), ['B3']);
      assert.equal(catalog.getBackupCopy('B1', 'a')?.prunedAt, at(2));
      assert.equal(applier.apply(event), false);
      applier.apply({ ...event, eventId: 'E2-again', at: at(9) });
      assert.equal(catalog.getBackupCopy('B1', 'a')?.prunedAt, at(2), 'a re-report of the finished job changes nothing');
    });

    it('a copy synced again after its prune comes back; a prune reported after a newer sync is ignored', () => {
      const { catalog, applier } = withBackups('B1');
      storageJob(catalog, 'S1', 'sync', 'b');
      applier.apply(succeeded('E1', 'S1', 1, sync(['B1']), 'b'));
      storageJob(catalog, 'P1', 'prune', 'b');
      applier.apply(succeeded('E2', 'P1', 2, prune(['B1'], false, 'b'), 'b'));
      assert.deepEqual(present(catalog, 'b'), []);
      storageJob(catalog, 'S2', 'sync', 'b');
      applier.apply(succeeded('E3', 'S2', 3, sync(['B1']), 'b'));
      assert.deepEqual(present(catalog, 'b'), ['B1'], 'copied again after the prune');

      // The other order: the later sync's result arrives before the earlier prune's.
      const other = withBackups('B1');
      storageJob(other.catalog, 'S1', 'sync', 'b');
      storageJob(other.catalog, 'P1', 'prune', 'b');
      other.applier.apply(succeeded('E1', 'S1', 5, sync(['B1']), 'b'));
      other.applier.apply(succeeded('E2', 'P1', 4, prune(['B1'], false, 'b'), 'b'));
      assert.deepEqual(present(other.catalog, 'b'), ['B1']);
      assert.deepEqual(present(other.catalog, 'a'), ['B1'], 'a prune at b leaves the copy at a alone');
    });

    it('a lock records lockedUntil at its site and only ever extends it, whatever the order', () => {
      const { catalog, applier } = withBackups('B1');
      storageJob(catalog, 'L2', 'lock');
      storageJob(catalog, 'L1', 'lock');
      applier.apply(succeeded('E2', 'L2', 2, lock('2027-06-01T00:00:00Z')));
      assert.equal(catalog.getBackupCopy('B1', 'a')?.lockedUntil, '2027-06-01T00:00:00.000Z', 'stored in the catalog format');
      applier.apply(succeeded('E1', 'L1', 1, lock('2027-01-01T00:00:00.000Z')));
      assert.equal(catalog.getBackupCopy('B1', 'a')?.lockedUntil, '2027-06-01T00:00:00.000Z', 'a shorter lock applied late changes nothing');
      assert.equal(catalog.listBackups({})[0]?.lockedUntil, '2027-06-01T00:00:00.000Z');
      storageJob(catalog, 'L3', 'lock', 'b');
      applier.apply(succeeded('E3', 'L3', 3, lock('2028-01-01T00:00:00.000Z', 'b'), 'b'));
      assert.equal(catalog.getJob('L3')?.state, 'succeeded', 'a lock of a copy the catalog lacks finishes the job');
      assert.equal(catalog.getBackupCopy('B1', 'b'), undefined);
    });

    it('a verify records verifiedAt, turns a damaged backup ok, and leaves skipped ones alone', () => {
      const { catalog, applier } = withBackups('B1', 'B2');
      catalog.updateBackup('B1', 'a', { state: 'damaged', stateAt: at(1) });
      catalog.updateBackup('B2', 'a', { verifiedAt: at(0) });
      storageJob(catalog, 'V1', 'verify');
      applier.apply(succeeded('E1', 'V1', 3, verify({ verifiedBackupIds: ['B1'], verifiedAt: at(2), skippedBackupIds: ['B2'] })));
      const b1 = catalog.getBackupCopy('B1', 'a');
      assert.equal(b1?.state, 'ok');
      assert.equal(b1?.verifiedAt, at(2), "the storage's verifiedAt");
      assert.equal(catalog.getBackupCopy('B2', 'a')?.verifiedAt, at(0));
      assert.deepEqual((catalog.getJob('V1')?.result as VerifyResult).skippedBackupIds, ['B2']);
    });

    it('verify findings are order-tolerant: an older finding applied late does not win', () => {
      const damagedAt1 = verify({
        verifiedBackupIds: ['B1'],
        verifiedAt: at(1),
        chunks: [{ digest: 'd', problem: 'crc', outcome: 'unrepaired', peer: null, bytes: 1, backups: [{ backupId: 'B1', vm: 'vm1', disk: 'root', offsetBytes: 0 }] }],
      });
      const okAt2 = verify({ verifiedBackupIds: ['B1'], verifiedAt: at(2) });
      for (const order of [[damagedAt1, okAt2], [okAt2, damagedAt1]]) {
        const { catalog, applier } = withBackups('B1');
        order.forEach((outcome, i) => {
          storageJob(catalog, `V${i}`, 'verify');
          applier.apply(succeeded(`E${i}`, `V${i}`, 10 + i, outcome));
        });
        const b1 = catalog.getBackupCopy('B1', 'a');
        assert.equal(b1?.state, 'ok');
        assert.equal(b1?.verifiedAt, at(2));
      }
      const { catalog, applier } = withBackups('B1');
      storageJob(catalog, 'V1', 'verify');
      applier.apply(succeeded('E1', 'V1', 5, verify({ damagedFiles: [{ backupId: 'B1', file: 'root.fidx', problem: 'checksum', outcome: 'unrepaired', peer: null }], verifiedAt: at(5) })));
      assert.equal(catalog.getBackupCopy('B1', 'a')?.state, 'damaged');
      assert.equal(catalog.getBackupCopy('B1', 'a')?.verifiedAt, null, 'not in verifiedBackupIds: not marked verified');
    });

    it('a deep verify (verify-only restore) marks the copy verified and ok; a plain restore records nothing', () => {
      const { catalog, applier } = withBackups('B1');
      catalog.updateBackup('B1', 'a', { state: 'damaged', stateAt: at(1) });
      const restore = (verifyOnly: boolean): JobResult => ({
        kind: 'restore',
        result: { backupId: 'B1', verifyOnly, site: 'a', targetDir: '/', disks: [], bytesWritten: 0, chunksFetched: 1, durationMs: 1, started: null },
      });
      catalog.insertJob(jobRow('R1', 'restore'));
      applier.apply({ ...succeeded('E1', 'R1', 2, restore(false)), worker: 'agent-1' });
      assert.equal(catalog.getBackupCopy('B1', 'a')?.state, 'damaged');
      catalog.insertJob(jobRow('R2', 'restore'));
      applier.apply({ ...succeeded('E2', 'R2', 3, restore(true)), worker: 'agent-1' });
      assert.equal(catalog.getBackupCopy('B1', 'a')?.state, 'ok');
      assert.equal(catalog.getBackupCopy('B1', 'a')?.verifiedAt, at(3));
    });

    it('a gc result finishes its job and touches no backup', () => {
      const { catalog, applier } = withBackups('B1');
      const before = catalog.listBackups({});
      storageJob(catalog, 'G1', 'gc');
      applier.apply(
        succeeded('E1', 'G1', 1, {
          kind: 'gc',
          result: { site: 'a', dryRun: false, chunksScanned: 5, chunksReferenced: 3, chunksInGrace: 1, chunksRemoved: 1, bytesReclaimed: 100, durationMs: 1 },
        }),
      );
      assert.equal(catalog.getJob('G1')?.state, 'succeeded');
      assert.deepEqual(catalog.listBackups({}), before);
    });

    it('a snapshot result finishes its job with the snapshots as its result and touches no backup', () => {
      const { catalog, applier } = withBackups('B1');
      const before = catalog.listBackups({});
      catalog.insertJob(jobRow('S1', 'snapshot', { params: { vm: 'vm1', op: 'list' } }));
      const result = {
        vm: 'vm1',
        op: 'list' as const,
        created: null,
        removed: [],
        reverted: null,
        vmRunning: true,
        snapshots: [{ name: 'pre', createdAt: at(0), madeByBulwark: false, disks: [{ disk: 'root', id: '1', createdAt: at(0), vmStateSizeBytes: 0 }] }],
        incomplete: [],
        note: null,
        durationMs: 3,
      };
      applier.apply({ ...succeeded('E1', 'S1', 1, { kind: 'snapshot', result }), worker: 'agent-1' });
      assert.equal(catalog.getJob('S1')?.state, 'succeeded');
      assert.deepEqual(catalog.getJob('S1')?.result, result);
      assert.deepEqual(catalog.listBackups({}), before);
    });
  });
});
