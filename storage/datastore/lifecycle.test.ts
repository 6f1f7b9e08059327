import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { BeginBackupRequest } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import { createStorageJobHandler } from '../events/storage-job-handler.js';
import { runVerify } from '../repair/verify.js';
import { chunkDisk, makeDiskImage, rebuildDisk } from '../testing/disk-fixture.js';
import { backupOverWire, putChunks, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';
import { Datastore } from './datastore.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { runGc } from './garbage-collection.js';
import { runPrune } from './prune.js';

const CHUNK = 64 * 1024;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const log = silentLogger();

describe('verify, lock, prune and garbage collection over a real gRPC storage', () => {
  let root: string;
  let s: TestStorage;
  const clock = new ManualClock(Date.UTC(2026, 10, 1));
  const images = new Map<string, Buffer>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-life-'));
    s = await startTestStorage(join(root, 'ds'), 'site-a', clock, CHUNK);
  });
  after(async () => {
    await s.stop();
    await rm(root, { recursive: true, force: true });
  });

  const backup = async (vm: string, seed: number, jobId: string, sizeBytes = 600_000) => {
    const image = makeDiskImage(sizeBytes, seed);
    const { backup: b } = await backupOverWire(s.client, { vm, disk: 'root', sizeBytes, chunked: chunkDisk(image, CHUNK), jobId });
    images.set(b.backupId, image);
    clock.advance(HOUR);
    return b.backupId;
  };
  const readsBack = async (backupId: string) => {
    const image = images.get(backupId);
    assert.ok(image);
    assert.ok((await restoreOverWire(s.client, backupId, 'root')).equals(image), `backup ${backupId} reads back identical`);
  };
  const list = async () =>
    (await callUnary<ListBackupsRequest, ListBackupsResponse__Output>('ListBackups', s.client.listBackups.bind(s.client), { vm: '' })).backups;
  const gc = (graceMs = 0, dryRun = false) => runGc({ datastore: s.datastore, site: 'site-a', graceMs, dryRun, clock, log });

  it('verifies one backup, one VM or everything; records verifiedAt; skips recent ones unless forced', async () => {
    const a1 = await backup('va', 1, 'v-a1');
    const b1 = await backup('vb', 2, 'v-b1');
    const verify = (extra: Parameters<typeof runVerify>[0] extends infer O ? Partial<O> : never) =>
      runVerify({ datastore: s.datastore, site: 'site-a', repair: false, clock, log, ...extra });

    const one = await verify({ backupId: a1 });
    assert.deepEqual(one.verifiedBackupIds, [a1]);
    assert.equal(one.backupsChecked, 1);
    assert.equal(one.verifiedAt, clock.nowIso());
    assert.ok(existsSync(join(root, 'ds', 'backups', 'va', a1, 'verified.json')));
    const listed = await list();
    assert.equal(listed.find((b) => b.backupId === a1)?.verifiedAt, clock.nowIso());
    assert.equal(listed.find((b) => b.backupId === b1)?.verifiedAt, '');

    clock.advance(10 * 60_000);
    const byVm = await verify({ vm: 'vb' });
    assert.deepEqual(byVm.verifiedBackupIds, [b1]);

    clock.advance(10 * 60_000);
    const skipping = await verify({ skipVerifiedWithinMs: 15 * 60_000 });
    assert.deepEqual(skipping.skippedBackupIds, [b1]);
    assert.deepEqual(skipping.verifiedBackupIds, [a1]);
    const forced = await verify({ skipVerifiedWithinMs: 15 * 60_000, force: true });
    assert.deepEqual(forced.skippedBackupIds, []);
    assert.deepEqual(forced.verifiedBackupIds.sort(), [a1, b1].sort());
    await assert.rejects(verify({ backupId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }), NotFoundError);

    // verifiedAt survives a restart (verified.json beside the manifest).
    const reopened = await Datastore.open(join(root, 'ds'), { chunkSizeBytes: CHUNK, clock, log });
    assert.equal(reopened.marksOf(a1).verifiedAt, clock.nowIso());
    await readsBack(a1);
    await readsBack(b1);
  });

  it('locks a backup: extended, never shortened; no prune, removal or GC deletes it or its chunks before the lock ends', async () => {
    const old = await backup('lk', 11, 'lk-1');
    const newer = await backup('lk', 12, 'lk-2');
    const until = new Date(clock.nowMs() + 2 * DAY).toISOString();
    const handler = createStorageJobHandler({ datastore: s.datastore, site: 'site-a', clock });
    const ctx = { log, signal: new AbortController().signal, progress: () => undefined } as unknown as Parameters<typeof handler>[1];
    const locked = await handler({ jobId: 'j-lock', attempt: 1, createdAt: clock.nowIso(), kind: 'lock', params: { backupId: old, until } }, ctx);
    assert.deepEqual(locked, { kind: 'lock', result: { site: 'site-a', backupId: old, lockedUntil: until } });
    assert.equal((await list()).find((b) => b.backupId === old)?.lockedUntil, until);

    const shorter = new Date(clock.nowMs() + DAY).toISOString();
    await assert.rejects(s.datastore.lockBackup(old, shorter), (e: unknown) => e instanceof PreconditionError && /never shortened/.test(e.message));
    await assert.rejects(s.datastore.lockBackup(old, new Date(clock.nowMs() - 1).toISOString()), (e: unknown) => e instanceof ValidationError && e.field === 'until');
    await assert.rejects(s.datastore.removeBackup(old), (e: unknown) => e instanceof PreconditionError && e.message.includes(until));

    const dry = await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'lk', keep: { last: 1 }, dryRun: true } });
    assert.deepEqual(dry.removed, []);
    assert.deepEqual(dry.kept.find((d) => d.backupId === old)?.keptBy, [`locked until ${until}`]);
    assert.deepEqual(dry.kept.find((d) => d.backupId === newer)?.keptBy, ['last 1']);
    const real = await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'lk', keep: { last: 1 }, dryRun: false } });
    assert.deepEqual(real.removed, []);
    await gc();
    await readsBack(old);

    // The lock holds across a restart, and can be extended.
    const reopened = await Datastore.open(join(root, 'ds'), { chunkSizeBytes: CHUNK, clock, log });
    assert.equal(reopened.isLocked(old), true);
    const later = new Date(clock.nowMs() + 3 * DAY).toISOString();
    assert.deepEqual(await s.datastore.lockBackup(old, later), { lockedUntil: later });

    clock.advance(3 * DAY + 1);
    const afterLock = await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'lk', keep: { last: 1 }, dryRun: false } });
    assert.deepEqual(
      afterLock.removed.map((d) => d.backupId),
      [old],
    );
    assert.equal(s.datastore.catalog.get(old), undefined);
    assert.ok(!existsSync(join(root, 'ds', 'backups', 'lk', old)));
    assert.deepEqual(await readdir(join(root, 'ds', 'tmp')), []);
    await readsBack(newer);
  });

  it('prune refuses to run without rules, reports why each survivor stays, and removes the rest; GC then reclaims their chunks', async () => {
    await assert.rejects(
      runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { keep: {}, dryRun: false } }),
      (e: unknown) => e instanceof ValidationError && e.field === 'keep',
    );
    const p1 = await backup('pr', 21, 'pr-1');
    clock.advance(DAY);
    const p2 = await backup('pr', 22, 'pr-2');
    const p3 = await backup('pr', 23, 'pr-3');
    const dry = await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'pr', keep: { daily: 1, last: 1 }, dryRun: true } });
    assert.deepEqual(
      dry.removed.map((d) => d.backupId),
      [p1, p2],
    );
    assert.deepEqual(dry.kept.find((d) => d.backupId === p3)?.keptBy, ['last 1', `daily ${clock.nowIso().slice(0, 10)}`]);
    assert.ok(s.datastore.catalog.get(p1));

    const handler = createStorageJobHandler({ datastore: s.datastore, site: 'site-a', clock });
    const ctx = { log, signal: new AbortController().signal, progress: () => undefined } as unknown as Parameters<typeof handler>[1];
    const pruned = await handler({ jobId: 'j-prune', attempt: 1, createdAt: clock.nowIso(), kind: 'prune', params: { vm: 'pr', keep: { last: 1 }, dryRun: false } }, ctx);
    assert.ok(pruned.kind === 'prune');
    assert.deepEqual(pruned.result.removed.map((d) => d.backupId).sort(), [p1, p2].sort());
    const dryGc = await gc(0, true);
    assert.ok(dryGc.chunksRemoved > 0 && dryGc.bytesReclaimed > 0);
    const real = await handler({ jobId: 'j-gc', attempt: 1, createdAt: clock.nowIso(), kind: 'gc', params: { graceMs: 0, dryRun: false } }, ctx);
    assert.ok(real.kind === 'gc');
    assert.equal(real.result.chunksRemoved, dryGc.chunksRemoved);
    assert.equal(real.result.bytesReclaimed, dryGc.bytesReclaimed);
    assert.equal((await gc()).chunksRemoved, 0);
    const verify = await runVerify({ datastore: s.datastore, site: 'site-a', repair: false, clock, log });
    assert.equal(verify.chunks.length, 0);
    assert.equal(verify.damagedFiles.length, 0);
    for (const m of s.datastore.catalog.list()) await readsBack(m.backupId);
  });

  it('keeps unreferenced chunks younger than the grace period', async () => {
    const id = await backup('gr', 31, 'gr-1');
    await backup('gr', 32, 'gr-2');
    await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'gr', keep: { last: 1 }, dryRun: false } });
    assert.equal(s.datastore.catalog.get(id), undefined);
    const graced = await gc(HOUR);
    assert.equal(graced.chunksRemoved, 0);
    assert.ok(graced.chunksInGrace > 0);
    assert.ok((await gc(0)).chunksRemoved > 0);
  });

  it('never sweeps a chunk of an open session or a committed backup while uploads run, GC after GC with no grace', async () => {
    // Orphans first: chunks of a pruned backup that the next upload will find present and reuse.
    const orphanImage = makeDiskImage(2_000_000, 41);
    const orphan = await backupOverWire(s.client, { vm: 'cc', disk: 'root', sizeBytes: orphanImage.length, chunked: chunkDisk(orphanImage, CHUNK), jobId: 'cc-0' });
    clock.advance(HOUR);
    const keeper = await backup('cc', 42, 'cc-1');
    await runPrune({ datastore: s.datastore, site: 'site-a', clock, log, params: { vm: 'cc', keep: { last: 1 }, dryRun: false } });
    assert.equal(s.datastore.catalog.get(orphan.backup.backupId), undefined);

    let uploading = true;
    let rounds = 0;
    let removed = 0;
    const collector = (async () => {
      while (uploading) {
        const r = await gc(0);
        removed += r.chunksRemoved;
        rounds++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results: { id: string; image: Buffer }[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const image = Buffer.from(orphanImage);
        image.fill(0x30 + i, i * 300_000, i * 300_000 + 1000);
        const { backup: b } = await backupOverWire(s.client, {
          vm: 'cc',
          disk: 'root',
          sizeBytes: image.length,
          chunked: chunkDisk(image, CHUNK),
          jobId: `cc-up-${i}`,
          // Let at least one full collection run while the session is open and not yet committed.
          beforeCommit: async () => {
            const seen = rounds;
            while (rounds < seen + 2) await new Promise((resolve) => setImmediate(resolve));
          },
        });
        results.push({ id: b.backupId, image });
      }
    } finally {
      uploading = false;
      await collector;
    }
    assert.ok(rounds >= 3, `GC ran ${rounds} times`);
    void removed;
    for (const { id, image } of results) assert.ok((await restoreOverWire(s.client, id, 'root')).equals(image));
    await readsBack(keeper);
    const verify = await runVerify({ datastore: s.datastore, site: 'site-a', repair: false, clock, log });
    assert.equal(verify.chunks.length, 0);
  });

  it('keeps the chunks of an open session across a restart (chunks.log), then commits it', async () => {
    const image = makeDiskImage(700_000, 51);
    const chunked = chunkDisk(image, CHUNK);
    const begin = await callUnary<BeginBackupRequest, BeginBackupResponse__Output>('BeginBackup', s.client.beginBackup.bind(s.client), {
      vm: 'rs',
      disks: [{ name: 'root', sizeBytes: image.length }],
      jobId: 'rs-1',
      attempt: 1,
      mode: 'full',
    });
    await putChunks(s.client, begin.sessionId, chunked.blobs.values());
    // A second process on the same directory stands for the restarted storage.
    const restarted = await Datastore.open(join(root, 'ds'), { chunkSizeBytes: CHUNK, clock, log });
    const swept = await runGc({ datastore: restarted, site: 'site-a', graceMs: 0, dryRun: false, clock, log });
    assert.equal(swept.chunksRemoved, 0);
    const missing = await restarted.findMissing([...chunked.blobs.values()].map((c) => c.digest));
    assert.deepEqual(missing, []);
    const upload = restarted.openIndexUpload(begin.sessionId);
    upload.addPart('root', 0, chunked.digests);
    await upload.finish();
    const manifest = await restarted.commitBackup(begin.sessionId, {});
    const index = decodeFixedIndex(await restarted.readIndexFile(manifest.backupId, 'root'));
    assert.ok((await rebuildDisk(index, (d) => restarted.readBlobChecked(d))).equals(image));
  });
});
