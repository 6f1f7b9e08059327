import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import type { WorkerEvent } from '../../shared/messages/events.js';
import type { BackupRecord } from '../../shared/messages/results.js';
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
        result: { sourceSite: 'a', site: 'b', copied: [record('B1', 'a')], backupsAlreadyPresent: 0, chunksCopied: 2, bytesCopied: 2048, durationMs: 5 },
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
});
