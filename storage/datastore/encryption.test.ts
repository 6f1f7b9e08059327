import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { keysFromMaterial } from '../../shared/crypto/datastore-keys.js';
import { ConfigError, CorruptDataError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { encodeBlob } from '../../shared/format/blob.js';
import { chunkDigest, digestHex } from '../../shared/format/chunk-digest.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { BeginBackupRequest } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import type { CommitBackupRequest } from '../../shared/rpc/generated/bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/CommitBackupResponse.js';
import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { PutIndexRequest } from '../../shared/rpc/generated/bulwark/v1/PutIndexRequest.js';
import { GrpcPeerStore } from '../replication/grpc-peer-store.js';
import { runSiteSync } from '../replication/site-sync.js';
import { runVerify } from '../repair/verify.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { backupOverWire, putChunks, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';
import { Datastore } from './datastore.js';
import type { FsChunkStore } from './fs-chunk-store.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('encryption at storage', () => {
  const keys = keysFromMaterial(randomBytes(96));
  const codec = new ChunkCodec(keys);
  const clock = new ManualClock();
  let root: string;
  let enc: TestStorage;
  let plain: TestStorage;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-enc-'));
    enc = await startTestStorage(join(root, 'enc'), 'site-a', clock, CHUNK, { keyFingerprint: keys.fingerprint });
    plain = await startTestStorage(join(root, 'plain'), 'site-p', clock, CHUNK);
  });
  after(async () => {
    await enc.stop();
    await plain.stop();
    await rm(root, { recursive: true, force: true });
  });

  const begin = (s: TestStorage, jobId: string) =>
    callUnary<BeginBackupRequest, BeginBackupResponse__Output>('BeginBackup', s.client.beginBackup.bind(s.client), {
      vm: 'vm',
      disks: [{ name: 'root', sizeBytes: CHUNK }],
      jobId,
      attempt: 1,
      mode: 'full',
    });

  it('reports its key fingerprint, and an unencrypted one reports none', async () => {
    const info = await callUnary<object, DatastoreInfo__Output>('GetDatastoreInfo', enc.client.getDatastoreInfo.bind(enc.client), {});
    assert.equal(info.keyFingerprint, keys.fingerprint);
    const none = await callUnary<object, DatastoreInfo__Output>('GetDatastoreInfo', plain.client.getDatastoreInfo.bind(plain.client), {});
    assert.equal(none.keyFingerprint, '');
  });

  it('takes encrypted blobs, records the fingerprint and content HMAC, and reads back byte for byte', async () => {
    const image = makeDiskImage(1_200_000, 81);
    const { backup } = await backupOverWire(enc.client, {
      vm: 'vm',
      disk: 'root',
      sizeBytes: image.length,
      chunked: chunkDisk(image, CHUNK, codec),
      jobId: 'enc-1',
      codec,
    });
    const manifest = decodeManifest(await enc.datastore.readManifestFile(backup.backupId));
    assert.equal(manifest.keyFingerprint, keys.fingerprint);
    assert.match(manifest.contentHmac ?? '', /^[0-9a-f]{64}$/);
    assert.ok((await restoreOverWire(enc.client, backup.backupId, 'root', codec)).equals(image));
    const verified = await runVerify({ datastore: enc.datastore, site: 'site-a', repair: false, clock, log });
    assert.deepEqual(verified.verifiedBackupIds, [backup.backupId]);
    assert.equal(verified.chunks.length, 0);
  });

  it('refuses a plain blob in an encrypted datastore, and an encrypted one in a plain datastore, naming the digest', async () => {
    const text = Buffer.alloc(CHUNK, 0x61);
    const digest = codec.digest(text);
    const { sessionId } = await begin(enc, 'enc-kind');
    await assert.rejects(
      putChunks(enc.client, sessionId, [{ digest, blob: encodeBlob(text) }]),
      (e: unknown) => e instanceof PreconditionError && e.message.includes(digestHex(digest)) && /not encrypted/.test(e.message),
    );
    const plainDigest = chunkDigest(text);
    const p = await begin(plain, 'plain-kind');
    await assert.rejects(
      putChunks(plain.client, p.sessionId, [{ digest: plainDigest, blob: codec.encode(text, plainDigest) }]),
      (e: unknown) => e instanceof PreconditionError && e.message.includes(digestHex(plainDigest)) && /is encrypted/.test(e.message),
    );
    // Storage cannot check an encrypted blob's content, but it does check its CRC.
    const sealed = codec.encode(text, digest);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    await assert.rejects(putChunks(enc.client, sessionId, [{ digest, blob: sealed }]), CorruptDataError);
  });

  it('requires the content HMAC on commit in an encrypted datastore, and refuses one in a plain datastore', async () => {
    const image = makeDiskImage(CHUNK, 82);
    const chunked = chunkDisk(image, CHUNK, codec);
    const { sessionId } = await begin(enc, 'enc-hmac');
    await putChunks(enc.client, sessionId, chunked.blobs.values());
    await new Promise<void>((resolve, reject) => {
      const stream = enc.client.putIndex((err) => (err ? reject(err) : resolve()));
      const part: PutIndexRequest = { sessionId, disk: 'root', firstChunk: 0, digests: chunked.digests };
      stream.write(part);
      stream.end();
    });
    const commit = (s: TestStorage, id: string, contentHmac: string) =>
      callUnary<CommitBackupRequest, CommitBackupResponse__Output>('CommitBackup', s.client.commitBackup.bind(s.client), {
        sessionId: id,
        contentHmac,
      });
    await assert.rejects(commit(enc, sessionId, ''), (e: unknown) => e instanceof ValidationError && e.field === 'content_hmac');
    await assert.rejects(commit(enc, sessionId, 'xyz'), (e: unknown) => e instanceof ValidationError && e.field === 'contentHmac');
    const p = await begin(plain, 'plain-hmac');
    await assert.rejects(commit(plain, p.sessionId, 'a'.repeat(64)), (e: unknown) => e instanceof ValidationError && e.field === 'content_hmac');
  });

  it('finds a damaged encrypted blob by its CRC in verify', async () => {
    const image = makeDiskImage(300_000, 83);
    const chunked = chunkDisk(image, CHUNK, codec);
    const { backup } = await backupOverWire(enc.client, { vm: 'vm2', disk: 'root', sizeBytes: image.length, chunked, jobId: 'enc-2', codec });
    const [victim] = chunked.blobs.values();
    assert.ok(victim);
    const path = (enc.datastore.chunks as FsChunkStore).pathOf(victim.digest);
    const bytes = await readFile(path);
    bytes[40] = (bytes[40] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const result = await runVerify({ datastore: enc.datastore, site: 'site-a', repair: false, clock, log, backupId: backup.backupId });
    assert.equal(result.chunks.length, 1);
    assert.equal(result.chunks[0]?.digest, digestHex(victim.digest));
    assert.match(result.chunks[0]?.problem ?? '', /checksum mismatch/);
    assert.deepEqual(result.verifiedBackupIds, []);
  });

  it('syncs between datastores of the same key, and refuses a source with another key', async () => {
    const image = makeDiskImage(500_000, 84);
    const { backup } = await backupOverWire(enc.client, { vm: 'vm3', disk: 'root', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK, codec), jobId: 'enc-3', codec });
    const replica = await startTestStorage(join(root, 'replica'), 'site-b', clock, CHUNK, { keyFingerprint: keys.fingerprint });
    const source = new GrpcPeerStore('site-a', enc.address);
    try {
      const result = await runSiteSync({ datastore: replica.datastore, site: 'site-b', source, clock, log });
      assert.ok(result.copied.some((c) => c.backupId === backup.backupId));
      assert.ok((await restoreOverWire(replica.client, backup.backupId, 'root', codec)).equals(image));
      const before = plain.datastore.catalog.size;
      await assert.rejects(
        runSiteSync({ datastore: plain.datastore, site: 'site-p', source, clock, log }),
        (e: unknown) => e instanceof PreconditionError && e.message.includes(keys.fingerprint),
      );
      assert.equal(plain.datastore.catalog.size, before);
    } finally {
      source.close();
      await replica.stop();
    }
  });

  it('refuses to open a datastore whose key fingerprint differs from the configured one', async () => {
    const other = keysFromMaterial(randomBytes(96)).fingerprint;
    for (const keyFingerprint of [other, null]) {
      await assert.rejects(
        Datastore.open(join(root, 'enc'), { chunkSizeBytes: CHUNK, keyFingerprint, clock, log }),
        (e: unknown) => e instanceof ConfigError && e.field === 'keyFingerprint' && e.message.includes(keys.fingerprint),
      );
    }
    await assert.rejects(
      Datastore.open(join(root, 'plain'), { chunkSizeBytes: CHUNK, keyFingerprint: other, clock, log }),
      (e: unknown) => e instanceof ConfigError && e.field === 'keyFingerprint',
    );
  });
});
