import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { chunkDisk, makeDiskImage, rebuildDisk } from '../testing/disk-fixture.js';
import { Datastore } from './datastore.js';
import { PRUNED_LOG_FILE, PrunedLog, prunedDirName } from './pruned-log.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

/** A committed one-disk backup of `vm` in `store`. */
async function backup(store: Datastore, vm: string, seed: number, jobId: string): Promise<{ backupId: string; image: Buffer }> {
  const image = makeDiskImage(400_000, seed);
  const chunked = chunkDisk(image, CHUNK);
  const intake = store.chunkIntake();
  for (const { digest, blob } of chunked.blobs.values()) await intake.accept(digest, blob);
  await intake.finish();
  const begun = await store.beginBackup({
    vm,
    disks: [{ name: 'root', sizeBytes: image.length }],
    jobId,
    attempt: 1,
    parentBackupId: null,
    mode: 'full',
    changeTracking: 'hash',
    changeTrackingNote: null,
  });
  assert.equal(begun.kind, 'session');
  const sessionId = begun.kind === 'session' ? begun.sessionId : '';
  const upload = store.openIndexUpload(sessionId);
  upload.addPart('root', 0, chunked.digests);
  await upload.finish();
  return { backupId: (await store.commitBackup(sessionId, {})).backupId, image };
}

describe('PrunedLog', () => {
  let dir: string;
  const clock = new ManualClock();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-pruned-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps what it recorded across a reopen, once per backup', async () => {
    const first = await PrunedLog.open(dir, dir, clock, log);
    const [x, y] = [newId(), newId()];
    await first.record({ backupId: x, vm: 'app', originDatastoreId: 'ds-a' });
    await first.record({ backupId: y, vm: 'db', originDatastoreId: 'ds-a' });
    await first.record({ backupId: x, vm: 'app', originDatastoreId: 'ds-a' });
    const again = await PrunedLog.open(dir, dir, clock, log);
    assert.ok(again.has(x) && again.has(y));
    assert.equal(again.size, 2);
    assert.deepEqual(
      again.records().map((r) => [r.backupId, r.vm]),
      [
        [x, 'app'],
        [y, 'db'],
      ],
    );
  });

  it('drops a torn last line (a crash mid-append) and rewrites the file before appending again', async () => {
    const first = await PrunedLog.open(dir, dir, clock, log);
    const x = newId();
    await first.record({ backupId: x, vm: 'app', originDatastoreId: 'ds-a' });
    await appendFile(join(dir, PRUNED_LOG_FILE), '1234abcd {"backupId":"01');
    const reopened = await PrunedLog.open(dir, dir, clock, log);
    assert.equal(reopened.size, 1);
    const y = newId();
    await reopened.record({ backupId: y, vm: 'app', originDatastoreId: 'ds-a' });
    const third = await PrunedLog.open(dir, dir, clock, log);
    assert.ok(third.has(x) && third.has(y), 'the record after the torn one is readable');
    assert.ok((await readFile(join(dir, PRUNED_LOG_FILE), 'utf8')).endsWith('\n'));
  });

  it('forgets only records of the given origin that it no longer lists', async () => {
    const prunedLog = await PrunedLog.open(dir, dir, clock, log);
    const [gone, listed, other] = [newId(), newId(), newId()];
    await prunedLog.record({ backupId: gone, vm: 'app', originDatastoreId: 'ds-a' });
    await prunedLog.record({ backupId: listed, vm: 'app', originDatastoreId: 'ds-a' });
    await prunedLog.record({ backupId: other, vm: 'app', originDatastoreId: 'ds-c' });
    assert.equal(await prunedLog.forgetAbsent('ds-a', new Set([listed])), 1);
    const reopened = await PrunedLog.open(dir, dir, clock, log);
    assert.deepEqual(
      reopened.records().map((r) => r.backupId),
      [listed, other],
    );
  });
});

describe('Datastore and the pruned log', () => {
  let dir: string;
  const clock = new ManualClock();
  const open = () => Datastore.open(dir, { chunkSizeBytes: CHUNK, clock, log });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-pruned-ds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records a removed backup, and an import of it afterwards is skipped as pruned here', async () => {
    const store = await open();
    const { backupId } = await backup(store, 'app', 1, 'j1');
    const manifestFile = await store.readManifestFile(backupId);
    const indexes = new Map([['root', await store.readIndexFile(backupId, 'root')]]);
    await store.removeBackup(backupId);
    assert.ok(store.prunedLog.has(backupId));
    const outcome = await store.importBackup(manifestFile, indexes);
    assert.deepEqual([outcome.imported, outcome.prunedHere], [false, true]);
    assert.equal(store.catalog.get(backupId), undefined, 'not brought back');
    const reopened = await open();
    assert.ok(reopened.prunedLog.has(backupId), 'the record is durable');
    assert.equal(reopened.catalog.get(backupId), undefined);
  });

  it('records at the next open a removal a crash interrupted between the rename and the record', async () => {
    const store = await open();
    const { backupId } = await backup(store, 'app', 2, 'j2');
    const { image: keptImage, backupId: kept } = await backup(store, 'app', 3, 'j3');
    // What removeBackup leaves when it dies after its rename into tmp/, before the record.
    await rename(join(dir, 'backups', 'app', backupId), join(dir, 'tmp', prunedDirName(backupId, 'deadbeef')));
    const reopened = await open();
    assert.equal(reopened.catalog.get(backupId), undefined, 'gone');
    assert.ok(reopened.prunedLog.has(backupId), 'and recorded');
    assert.equal(reopened.prunedLog.records()[0]?.originDatastoreId, store.info.id);
    assert.ok(!reopened.prunedLog.has(kept));
    const index = decodeFixedIndex(await reopened.readIndexFile(kept, 'root'));
    const restored = await rebuildDisk(index, (digest) => reopened.readBlobChecked(digest));
    assert.ok(restored.equals(keptImage), 'the other backup is untouched and restores byte for byte');
  });
});
