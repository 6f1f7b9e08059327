import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, NotFoundError, ValidationError } from '../../shared/errors.js';
import { encodeBlob } from '../../shared/format/blob.js';
import { chunkDigest, digestHex } from '../../shared/format/chunk-digest.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import type { BeginBackupRequest } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { FindMissingRequest } from '../../shared/rpc/generated/bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../../shared/rpc/generated/bulwark/v1/FindMissingResponse.js';
import type { GetManifestRequest } from '../../shared/rpc/generated/bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetManifestResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import type { CommitBackupRequest } from '../../shared/rpc/generated/bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/CommitBackupResponse.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { backupOverWire, putChunks, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';

const CHUNK = 64 * 1024;

describe('BlockStore service over gRPC', () => {
  let dir: string;
  let storage: TestStorage;
  const clock = new ManualClock();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-bs-'));
    storage = await startTestStorage(dir, 'site-a', clock, CHUNK);
  });
  after(async () => {
    await storage.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const begin = (req: BeginBackupRequest) =>
    callUnary<BeginBackupRequest, BeginBackupResponse__Output>('BeginBackup', storage.client.beginBackup.bind(storage.client), req);
  const findMissing = (digests: Buffer[]) =>
    callUnary<FindMissingRequest, FindMissingResponse__Output>('FindMissing', storage.client.findMissing.bind(storage.client), { digests });

  it('reports its identity and chunk size', async () => {
    const info = await callUnary<object, DatastoreInfo__Output>('GetDatastoreInfo', storage.client.getDatastoreInfo.bind(storage.client), {});
    assert.equal(info.datastoreId, storage.datastore.info.id);
    assert.equal(info.chunkSizeBytes, CHUNK);
    assert.equal(info.site, 'site-a');
    assert.equal(info.formatVersion, 1);
  });

  it('takes a backup through the wire, then an incremental sends only the changed chunks; both read back identical', async () => {
    const image = makeDiskImage(2_000_000, 21);
    const first = await backupOverWire(storage.client, {
      vm: 'web',
      disk: 'root',
      sizeBytes: image.length,
      chunked: chunkDisk(image, CHUNK),
      jobId: 'job-a',
    });
    assert.ok(first.sent > 0);
    assert.equal(first.backup.vm, 'web');
    assert.equal(first.backup.disks[0]?.chunkCount, Math.ceil(image.length / CHUNK));

    const changed = Buffer.from(image);
    changed.fill(0x11, 100_000, 100_100);
    const second = await backupOverWire(storage.client, {
      vm: 'web',
      disk: 'root',
      sizeBytes: changed.length,
      chunked: chunkDisk(changed, CHUNK),
      jobId: 'job-b',
    });
    assert.equal(second.sent, 1);

    const listed = await callUnary<ListBackupsRequest, ListBackupsResponse__Output>('ListBackups', storage.client.listBackups.bind(storage.client), {
      vm: 'web',
    });
    assert.deepEqual(
      listed.backups.map((b) => b.backupId),
      [first.backup.backupId, second.backup.backupId],
    );
    const none = await callUnary<ListBackupsRequest, ListBackupsResponse__Output>('ListBackups', storage.client.listBackups.bind(storage.client), {
      vm: 'other',
    });
    assert.equal(none.backups.length, 0);

    const manifest = await callUnary<GetManifestRequest, GetManifestResponse__Output>('GetManifest', storage.client.getManifest.bind(storage.client), {
      backupId: second.backup.backupId,
    });
    assert.equal(decodeManifest(manifest.manifest).stats.chunksSent, 1);

    assert.ok((await restoreOverWire(storage.client, first.backup.backupId, 'root')).equals(image));
    assert.ok((await restoreOverWire(storage.client, second.backup.backupId, 'root')).equals(changed));

    const redelivered = await begin({ vm: 'web', disks: [{ name: 'root', sizeBytes: image.length }], jobId: 'job-a', attempt: 1, mode: 'full' });
    assert.equal(redelivered.committedBackupId, first.backup.backupId);
    assert.equal(redelivered.sessionId, '');
  });

  it('refuses a corrupt blob, naming its digest, and stores nothing of it', async () => {
    const { sessionId } = await begin({ vm: 'db', disks: [{ name: 'root', sizeBytes: CHUNK }], jobId: 'job-c', attempt: 1, mode: 'full' });
    const plain = Buffer.from(Array.from({ length: CHUNK }, (_, i) => (i * 7 + (i >> 9)) & 0xff));
    const digest = chunkDigest(plain);
    const blob = encodeBlob(plain);
    const flipped = Buffer.from(blob);
    flipped[100] = (flipped[100] ?? 0) ^ 0x10;
    await assert.rejects(
      putChunks(storage.client, sessionId, [{ digest, blob: flipped }]),
      (err: unknown) => err instanceof CorruptDataError && err.message.includes(digestHex(digest)),
    );
    const wrong = encodeBlob(Buffer.alloc(CHUNK, 0x77));
    await assert.rejects(
      putChunks(storage.client, sessionId, [{ digest, blob: wrong }]),
      (err: unknown) => err instanceof CorruptDataError && /does not match its digest/.test(err.message),
    );
    assert.equal((await findMissing([digest])).missing.length, 1);
    const ok = await putChunks(storage.client, sessionId, [{ digest, blob }, { digest, blob }]);
    assert.equal(ok.chunksWritten, 1);
    assert.equal(ok.chunksAlreadyPresent, 1);
    assert.equal((await findMissing([digest])).missing.length, 0);
  });

  it('refuses a commit whose chunks are missing', async () => {
    const image = makeDiskImage(CHUNK * 3, 44);
    const chunked = chunkDisk(image, CHUNK);
    const { sessionId } = await begin({ vm: 'db', disks: [{ name: 'root', sizeBytes: image.length }], jobId: 'job-d', attempt: 1, mode: 'full' });
    await new Promise<void>((resolve, reject) => {
      const stream = storage.client.putIndex((err) => (err ? reject(err) : resolve()));
      stream.write({ sessionId, disk: 'root', firstChunk: 0, digests: chunked.digests });
      stream.end();
    });
    await assert.rejects(
      callUnary<CommitBackupRequest, CommitBackupResponse__Output>('CommitBackup', storage.client.commitBackup.bind(storage.client), { sessionId }),
      (err: unknown) =>
        err instanceof ChunkMissingError && err.digests.length > 0 && err.digests.every((d) => chunked.blobs.has(d)),
    );
  });

  it('names the field of a bad request and reports unknown or missing objects', async () => {
    await assert.rejects(findMissing([Buffer.alloc(31)]), (err: unknown) => err instanceof ValidationError && err.field === 'digests.0');
    await assert.rejects(
      findMissing(Array.from({ length: 16385 }, () => Buffer.alloc(32, 1))),
      (err: unknown) => err instanceof ValidationError && err.field === 'digests',
    );
    await assert.rejects(
      begin({ vm: '../etc', disks: [{ name: 'root', sizeBytes: 1 }], jobId: 'j', attempt: 1, mode: 'full' }),
      (err: unknown) => err instanceof ValidationError && err.field === 'vm',
    );
    await assert.rejects(
      begin({ vm: 'ok', disks: [{ name: 'root', sizeBytes: 1 }], jobId: 'j', attempt: 1, mode: 'sideways' }),
      (err: unknown) => err instanceof ValidationError && err.field === 'mode',
    );
    await assert.rejects(
      callUnary<GetManifestRequest, GetManifestResponse__Output>('GetManifest', storage.client.getManifest.bind(storage.client), {
        backupId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      }),
      NotFoundError,
    );
    const absent = chunkDigest(Buffer.from('never stored'));
    await assert.rejects(async () => {
      for await (const _ of readServerStream('GetChunks', storage.client.getChunks({ digests: [absent] }))) {
        assert.fail('no chunk expected');
      }
    }, (err: unknown) => err instanceof ChunkMissingError && err.digests[0] === digestHex(absent));
    await assert.rejects(putChunks(storage.client, 'no-such-session', [{ digest: absent, blob: encodeBlob(Buffer.from('x')) }]), NotFoundError);
  });
});
