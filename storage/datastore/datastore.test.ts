import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { encodeBlob } from '../../shared/format/blob.js';
import { chunkDigest, digestHex } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import { chunkDisk, makeDiskImage, rebuildDisk, type ChunkedDisk } from '../testing/disk-fixture.js';
import type { SessionSpec } from './backup-session.js';
import { Datastore } from './datastore.js';
import { decodeDatastoreFile } from './datastore-file.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

function spec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    vm: 'vm1',
    disks: [{ name: 'root', sizeBytes: 1_000_000 }],
    jobId: 'job-1',
    attempt: 1,
    parentBackupId: null,
    mode: 'full',
    changeTracking: 'hash',
    changeTrackingNote: null,
    ...overrides,
  };
}

async function putAll(store: Datastore, disk: ChunkedDisk): Promise<void> {
  const intake = store.chunkIntake();
  for (const { digest, blob } of disk.blobs.values()) await intake.accept(digest, blob);
  await intake.finish();
}

async function uploadIndex(store: Datastore, sessionId: string, name: string, disk: ChunkedDisk): Promise<number> {
  const upload = store.openIndexUpload(sessionId);
  const half = Math.floor(disk.chunkCount / 2);
  upload.addPart(name, 0, disk.digests.subarray(0, half * 32));
  upload.addPart(name, half, disk.digests.subarray(half * 32));
  return upload.finish();
}

async function sessionOf(store: Datastore, s: SessionSpec): Promise<string> {
  const outcome = await store.beginBackup(s);
  assert.equal(outcome.kind, 'session');
  return outcome.kind === 'session' ? outcome.sessionId : '';
}

describe('Datastore', () => {
  let dir: string;
  let clock: ManualClock;
  const open = (chunkSizeBytes = CHUNK) => Datastore.open(dir, { chunkSizeBytes, clock, log });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-ds-'));
    clock = new ManualClock();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a self-checking datastore.json and keeps its chunk size on reopen', async () => {
    const store = await open();
    const file = await readFile(join(dir, 'datastore.json'));
    const body = decodeDatastoreFile(file);
    assert.equal(body.id, store.info.id);
    assert.equal(body.chunkSizeBytes, CHUNK);
    assert.equal(body.keyFingerprint, null);
    for (const sub of ['chunks', 'backups', 'sessions', 'tmp', 'quarantine']) assert.ok(existsSync(join(dir, sub)));
    const again = await open(1024 * 1024);
    assert.equal(again.info.id, store.info.id);
    assert.equal(again.info.chunkSizeBytes, CHUNK);
  });

  it('refuses a damaged datastore.json and a foreign non-empty directory', async () => {
    await open();
    const file = await readFile(join(dir, 'datastore.json'));
    const damaged = Buffer.from(file.toString('utf8').replace(/"chunkSizeBytes":65536/, '"chunkSizeBytes":131072'));
    await writeFile(join(dir, 'datastore.json'), damaged);
    await assert.rejects(open(), (err: unknown) => err instanceof CorruptDataError && /checksum mismatch/.test(err.message));

    const other = await mkdtemp(join(tmpdir(), 'bulwark-ds-foreign-'));
    try {
      await writeFile(join(other, 'precious.txt'), 'keep me');
      await assert.rejects(Datastore.open(other, { chunkSizeBytes: CHUNK, clock, log }), PreconditionError);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('commits a backup whose chunks are all present and reads it back byte for byte', async () => {
    const store = await open();
    const image = makeDiskImage(1_000_000, 7);
    const disk = chunkDisk(image, CHUNK);
    const sessionId = await sessionOf(store, spec());
    await putAll(store, disk);
    assert.equal(await uploadIndex(store, sessionId, 'root', disk), disk.chunkCount);
    const manifest = await store.commitBackup(sessionId, { bytesRead: 1_000_000, note: 'x' });

    assert.equal(manifest.vm, 'vm1');
    assert.equal(manifest.createdAt, clock.nowIso());
    assert.equal(manifest.datastoreId, store.info.id);
    assert.deepEqual(manifest.stats, { bytesRead: 1_000_000, note: 'x' });
    assert.equal(manifest.disks[0]?.chunkCount, disk.chunkCount);
    assert.equal(store.openSessions().length, 0);
    assert.ok(!existsSync(join(dir, 'sessions', sessionId)));
    assert.deepEqual(decodeManifest(await store.readManifestFile(manifest.backupId)), manifest);

    const reopened = await open();
    assert.deepEqual(
      reopened.catalog.list().map((m) => m.backupId),
      [manifest.backupId],
    );
    const index = decodeFixedIndex(await reopened.readIndexFile(manifest.backupId, 'root'));
    const restored = await rebuildDisk(index, (d) => reopened.readBlobChecked(d));
    assert.ok(restored.equals(image));
  });

  it('refuses to commit while a referenced chunk is missing, naming it', async () => {
    const store = await open();
    const disk = chunkDisk(makeDiskImage(1_000_000, 8), CHUNK);
    const sessionId = await sessionOf(store, spec());
    const [held, ...rest] = [...disk.blobs.values()];
    assert.ok(held);
    const intake = store.chunkIntake();
    for (const { digest, blob } of rest) await intake.accept(digest, blob);
    await intake.finish();
    await uploadIndex(store, sessionId, 'root', disk);
    await assert.rejects(
      store.commitBackup(sessionId, {}),
      (err: unknown) => err instanceof ChunkMissingError && err.digests.includes(digestHex(held.digest)),
    );
    assert.equal(store.catalog.size, 0);
    assert.deepEqual(await store.findMissing([held.digest]), [held.digest]);
    await store.chunks.put(held.digest, held.blob);
    const manifest = await store.commitBackup(sessionId, {});
    assert.equal(store.catalog.get(manifest.backupId)?.backupId, manifest.backupId);
  });

  it('indexes an empty disk by itself', async () => {
    const store = await open();
    const disk = chunkDisk(makeDiskImage(200_000, 12), CHUNK);
    const sessionId = await sessionOf(store, spec({ disks: [{ name: 'root', sizeBytes: 200_000 }, { name: 'empty', sizeBytes: 0 }] }));
    await putAll(store, disk);
    await uploadIndex(store, sessionId, 'root', disk);
    const manifest = await store.commitBackup(sessionId, {});
    assert.deepEqual(
      manifest.disks.map((d) => [d.name, d.chunkCount]),
      [
        ['root', disk.chunkCount],
        ['empty', 0],
      ],
    );
    assert.equal(decodeFixedIndex(await store.readIndexFile(manifest.backupId, 'empty')).chunkCount, 0);
  });

  it('refuses to commit a disk without an index', async () => {
    const store = await open();
    const sessionId = await sessionOf(store, spec());
    await assert.rejects(store.commitBackup(sessionId, {}), PreconditionError);
  });

  it('answers a committed job attempt with its backup, and lets a redelivery replace an open session', async () => {
    const store = await open();
    const disk = chunkDisk(makeDiskImage(500_000, 9), CHUNK);
    const first = await sessionOf(store, spec({ disks: [{ name: 'root', sizeBytes: 500_000 }] }));
    const second = await sessionOf(store, spec({ disks: [{ name: 'root', sizeBytes: 500_000 }] }));
    assert.notEqual(first, second);
    assert.throws(() => store.session(first), NotFoundError);
    await putAll(store, disk);
    await uploadIndex(store, second, 'root', disk);
    const manifest = await store.commitBackup(second, {});

    const again = await store.beginBackup(spec({ disks: [{ name: 'root', sizeBytes: 500_000 }] }));
    assert.deepEqual(again.kind === 'committed' ? again.backup.backupId : again, manifest.backupId);
    const reopened = await open();
    const afterRestart = await reopened.beginBackup(spec());
    assert.equal(afterRestart.kind, 'committed');

    const nextAttempt = await reopened.beginBackup(spec({ attempt: 2 }));
    assert.equal(nextAttempt.kind, 'session');
  });

  it('checks index parts: order, length and completeness', async () => {
    const store = await open();
    const disk = chunkDisk(makeDiskImage(1_000_000, 10), CHUNK);
    const sessionId = await sessionOf(store, spec());
    const upload = store.openIndexUpload(sessionId);
    assert.throws(() => upload.addPart('root', 1, disk.digests.subarray(0, 32)), (e: unknown) => e instanceof ValidationError && e.field === 'first_chunk');
    assert.throws(() => upload.addPart('data', 0, disk.digests.subarray(0, 32)), ValidationError);
    assert.throws(() => upload.addPart('root', 0, disk.digests.subarray(0, 31)), ValidationError);
    upload.addPart('root', 0, disk.digests.subarray(0, 64));
    await assert.rejects(upload.finish(), ValidationError);
  });

  it('rejects a blob that fails its checksum or its digest, naming the digest', async () => {
    const store = await open();
    const plain = Buffer.alloc(CHUNK, 3);
    const digest = chunkDigest(plain);
    const blob = encodeBlob(plain);
    const flipped = Buffer.from(blob);
    flipped[40] = (flipped[40] ?? 0) ^ 1;
    const intake = store.chunkIntake();
    await assert.rejects(intake.accept(digest, flipped), (e: unknown) => e instanceof CorruptDataError && e.message.includes(digestHex(digest)));
    await intake.finish();
    // The digest check runs beside the writes: it fails the stream at the latest when it finishes.
    const other = encodeBlob(Buffer.alloc(CHUNK, 4));
    const second = store.chunkIntake();
    await second.accept(digest, other);
    await assert.rejects(second.finish(), (e: unknown) => e instanceof CorruptDataError && /does not match its digest/.test(e.message) && e.message.includes(digestHex(digest)));
    assert.equal(await store.chunks.has(digest), false);
  });

  it('never counts a chunk still being written as present', async () => {
    const store = await open();
    const plain = Buffer.alloc(CHUNK, 5);
    const digest = chunkDigest(plain);
    const writing = store.chunks.put(digest, encodeBlob(plain));
    assert.equal(await store.chunks.has(digest), false);
    assert.deepEqual(await store.findMissing([digest]), [digest]);
    assert.equal(await writing, 'written');
    assert.equal(await store.chunks.has(digest), true);
    assert.equal(await store.chunks.put(digest, encodeBlob(plain)), 'present');
  });

  it('cleans leftovers of a crashed commit and stray temp files, and keeps a backup that lost its manifest for repair', async () => {
    const store = await open();
    const disk = chunkDisk(makeDiskImage(300_000, 11), CHUNK);
    const sessionId = await sessionOf(store, spec({ disks: [{ name: 'root', sizeBytes: 300_000 }] }));
    await putAll(store, disk);
    await uploadIndex(store, sessionId, 'root', disk);
    // A commit that crashed while building its directory in tmp/.
    const staged = join(dir, 'tmp', `commit-${newId()}-0001`);
    await mkdir(staged, { recursive: true });
    await writeFile(join(staged, 'root.fidx'), Buffer.alloc(200));
    await writeFile(join(dir, 'tmp', '.manifest.json.abc.tmp'), 'half');
    // Commits never leave a directory without a manifest in backups/: one there lost its manifest.
    const lostId = newId();
    const lost = join(dir, 'backups', 'vm1', lostId);
    await mkdir(lost, { recursive: true });
    await writeFile(join(lost, 'root.fidx'), Buffer.alloc(200));

    const reopened = await open();
    assert.equal(reopened.catalog.size, 0);
    assert.ok(existsSync(join(lost, 'root.fidx')), 'a backup that lost its manifest is kept');
    assert.deepEqual(reopened.damagedAtOpen, [{ vm: 'vm1', backupId: lostId, file: 'manifest.json', disk: null, problem: 'missing' }]);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    await rm(lost, { recursive: true });
    // The open session survived the restart and can still commit.
    assert.equal(reopened.session(sessionId).indexed.get('root')?.chunkCount, disk.chunkCount);
    const manifest = await reopened.commitBackup(sessionId, {});
    assert.deepEqual(
      (await open()).catalog.list().map((m) => m.backupId),
      [manifest.backupId],
    );
  });

  it('aborts a session and refuses a parent it does not hold', async () => {
    const store = await open();
    const sessionId = await sessionOf(store, spec());
    await store.abortBackup(sessionId);
    assert.ok(!existsSync(join(dir, 'sessions', sessionId)));
    await assert.rejects(store.abortBackup(sessionId), NotFoundError);
    await assert.rejects(store.beginBackup(spec({ parentBackupId: newId(), mode: 'incremental' })), NotFoundError);
  });
});
