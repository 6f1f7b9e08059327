/**
 * The agent's GrpcBlockStore against the real BlockStore service and datastore on 127.0.0.1:0:
 * long streams under backpressure, indexes and index files in several parts, errors mapped back
 * to their classes, and a whole backup and restore through the adapter, compared byte for byte.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GrpcBlockStore } from '../../node-agent/adapters/grpc-block-store.js';
import type { ChunkProcessorOptions } from '../../node-agent/ports/chunk-processor.js';
import { WorkerChunkProcessor } from '../../node-agent/adapters/worker-chunk-processor.js';
import { runBackup } from '../../node-agent/backup/backup-job.js';
import { FilesDriver } from '../../node-agent/hypervisors/files/files-driver.js';
import { runRestore } from '../../node-agent/restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../../node-agent/testing/disk-images.js';
import { systemClock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, NotFoundError, PreconditionError, UnavailableError } from '../../shared/errors.js';
import { generateKeyMaterial, keysFromMaterial, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { encodeBlob } from '../../shared/format/blob.js';
import { chunkDigest, DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { newId } from '../../shared/ids.js';
import { silentLogger } from '../../shared/log.js';
import { startTestStorage, type TestStorage } from '../../storage/testing/test-storage.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('GrpcBlockStore against the real BlockStore service', () => {
  let dir: string;
  let server: TestStorage;
  let store: GrpcBlockStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-grpc-store-'));
    server = await startTestStorage(join(dir, 'datastore'), 'site-x', systemClock, CHUNK);
    store = new GrpcBlockStore(server.address);
  });

  after(async () => {
    store?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the datastore info', async () => {
    const info = await store.info();
    assert.equal(info.chunkSizeBytes, CHUNK);
    assert.equal(info.site, 'site-x');
    assert.ok(info.datastoreId.length > 0);
    assert.equal(info.keyFingerprint, null);
  });

  it('streams many blobs on one PutChunks, indexes in parts, and reads them back', async () => {
    const count = 300;
    const chunks = Array.from({ length: count }, (_, i) => seededBytes(1000 + i, CHUNK));
    const digests = chunks.map((c) => chunkDigest(c));
    assert.equal((await store.findMissing(digests)).length, count);
    // A disk of 40,000 chunks: the index needs two PutIndex parts and two GetIndex parts.
    const chunkCount = 40_000;
    const begin = await store.beginBackup({
      vm: 'big',
      disks: [{ name: 'd0', sizeBytes: chunkCount * CHUNK }],
      jobId: newId(),
      attempt: 1,
      parentBackupId: null,
      mode: 'full',
      changeTracking: 'hash',
      changeTrackingNote: null,
    });
    assert.equal(begin.committedBackupId, null);
    const writer = store.putChunks(begin.sessionId);
    for (let i = 0; i < count; i++) await writer.write(digests[i]!, encodeBlob(chunks[i]!));
    const totals = await writer.close();
    assert.equal(totals.chunksWritten, count);
    assert.deepEqual(await store.findMissing(digests), []);

    const index = Buffer.alloc(chunkCount * DIGEST_BYTES);
    digests.forEach((d, i) => d.copy(index, i * 7 * DIGEST_BYTES));
    assert.deepEqual(await store.putIndex(begin.sessionId, 'd0', index), { chunkCount });
    const summary = await store.commitBackup(begin.sessionId, { note: 'adapter test', chunks: count });
    assert.equal(summary.vm, 'big');
    assert.equal(summary.parentBackupId, null);
    assert.deepEqual(summary.disks, [{ name: 'd0', sizeBytes: chunkCount * CHUNK, chunkCount, zeroChunks: chunkCount - count }]);

    const manifest = decodeManifest(await store.getManifest(summary.backupId));
    assert.equal(manifest.stats.note, 'adapter test');
    const decoded = decodeFixedIndex(await store.getIndex(summary.backupId, 'd0'));
    assert.ok(decoded.digests.equals(index));
    assert.deepEqual((await store.listBackups('big')).map((b) => b.backupId), [summary.backupId]);

    let fetched = 0;
    for await (const { digest, blob } of store.getChunks(digests.slice(0, 50))) {
      assert.ok(digest.equals(digests[fetched]!));
      assert.ok(blob.length > 0);
      fetched++;
    }
    assert.equal(fetched, 50);
  });

  it('maps failures back to their error classes', async () => {
    await assert.rejects(store.getManifest(newId()), NotFoundError);
    await assert.rejects(
      (async () => {
        for await (const _ of store.getChunks([chunkDigest(Buffer.from('never stored'))])) assert.fail('nothing to fetch');
      })(),
      (err: unknown) => err instanceof ChunkMissingError || err instanceof NotFoundError,
    );
    const begin = await store.beginBackup({
      vm: 'bad',
      disks: [{ name: 'd0', sizeBytes: CHUNK }],
      jobId: newId(),
      attempt: 1,
      parentBackupId: null,
      mode: 'full',
      changeTracking: 'hash',
      changeTrackingNote: null,
    });
    // A blob whose plaintext does not match the digest it is sent under.
    const writer = store.putChunks(begin.sessionId);
    await assert.rejects(
      (async () => {
        await writer.write(chunkDigest(Buffer.from('one')), encodeBlob(Buffer.from('another')));
        await writer.close();
      })(),
      CorruptDataError,
    );
    await store.abortBackup(begin.sessionId);
    const unreachable = new GrpcBlockStore('127.0.0.1:1');
    try {
      await assert.rejects(unreachable.info(), UnavailableError);
    } finally {
      unreachable.close();
    }
  });

  it('runs a backup and a restore through the adapter, byte for byte and sparse', async () => {
    const path = join(dir, 'vm.raw');
    const size = 4 * 1024 * 1024 + 777;
    await writeDiskImage(path, size, [
      { offset: 0, data: seededBytes(7, 300_000) },
      { offset: 3 * 1024 * 1024, data: seededBytes(8, 1024 * 1024 + 777) },
    ]);
    const driver = new FilesDriver({ kind: 'files', vms: [{ name: 'vm', disks: [{ name: 'd0', path }] }] }, log);
    const result = await runBackup(
      { jobId: newId(), attempt: 1, vm: 'vm', mode: 'auto' },
      { driver, store, log, clock: systemClock, progress: () => undefined, keys: null, openProcessor: (k, o) => new WorkerChunkProcessor(k, { ...o, threads: 2 }) },
    );
    assert.equal(result.backup.site, 'site-x');
    const target = join(dir, 'restored');
    const restored = await runRestore(
      { backupId: result.backup.backupId, vm: 'vm', targetDir: target },
      { store, log, clock: systemClock, progress: () => undefined, keys: null, openProcessor: (k, o) => new WorkerChunkProcessor(k, { ...o, threads: 2 }) },
    );
    assert.equal(restored.disks[0]!.path, join(target, 'd0.img'));
    assert.ok((await readFile(join(target, 'd0.img'))).equals(await readFile(path)));
    assert.ok((await stat(join(target, 'd0.img'))).blocks * 512 < size);
  });

  it('backs up, restores and verifies an encrypted datastore through the adapter; a wrong key changes nothing', async () => {
    const keys = keysFromMaterial(generateKeyMaterial());
    const encrypted = await startTestStorage(join(dir, 'encrypted'), 'site-e', systemClock, CHUNK, { keyFingerprint: keys.fingerprint });
    const eStore = new GrpcBlockStore(encrypted.address);
    try {
      assert.equal((await eStore.info()).keyFingerprint, keys.fingerprint);
      const path = join(dir, 'secret.raw');
      const size = 3 * 1024 * 1024 + 4321;
      await writeDiskImage(path, size, [
        { offset: 0, data: Buffer.from('confidential\n'.repeat(50_000)) },
        { offset: 2 * 1024 * 1024, data: seededBytes(9, 1024 * 1024 + 4321) },
      ]);
      const driver = new FilesDriver({ kind: 'files', vms: [{ name: 'vm', disks: [{ name: 'd0', path }] }] }, log);
      const deps = { log, clock: systemClock, progress: () => undefined, openProcessor: (k: DatastoreKeys | null, o: ChunkProcessorOptions) => new WorkerChunkProcessor(k, { ...o, threads: 2 }) };
      const result = await runBackup({ jobId: newId(), attempt: 1, vm: 'vm', mode: 'auto' }, { ...deps, driver, store: eStore, keys });
      const manifest = decodeManifest(await eStore.getManifest(result.backup.backupId));
      assert.equal(manifest.keyFingerprint, keys.fingerprint);
      assert.match(manifest.contentHmac ?? '', /^[0-9a-f]{64}$/);
      // Restore checks storage's manifest against the agent's HMAC over the index storage built.
      const target = join(dir, 'restored-encrypted');
      await runRestore({ backupId: result.backup.backupId, vm: 'vm', targetDir: target }, { ...deps, store: eStore, keys });
      assert.ok((await readFile(join(target, 'd0.img'))).equals(await readFile(path)));
      const verified = await runRestore({ backupId: result.backup.backupId, vm: 'vm', targetDir: join(dir, 'unused'), verifyOnly: true }, { ...deps, store: eStore, keys });
      assert.equal(verified.verifyOnly, true);
      assert.ok(verified.chunksFetched > 0);

      const wrong = keysFromMaterial(generateKeyMaterial());
      const refused = join(dir, 'refused');
      await assert.rejects(
        runRestore({ backupId: result.backup.backupId, vm: 'vm', targetDir: refused }, { ...deps, store: eStore, keys: wrong }),
        (err: unknown) => err instanceof PreconditionError && err.message.includes(keys.fingerprint) && err.message.includes(wrong.fingerprint),
      );
      await assert.rejects(runBackup({ jobId: newId(), attempt: 1, vm: 'vm', mode: 'auto' }, { ...deps, driver, store: eStore, keys: null }), PreconditionError);
      await assert.rejects(runBackup({ jobId: newId(), attempt: 1, vm: 'vm', mode: 'auto' }, { ...deps, driver, store, keys }), PreconditionError);
      assert.equal((await eStore.listBackups('vm')).length, 1);
      assert.ok(!existsSync(refused));
    } finally {
      eStore.close();
      await encrypted.stop();
    }
  });
});
