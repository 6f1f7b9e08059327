/**
 * The sync algorithm over real gRPC storages in this process: push through GrpcSyncSink and the
 * ImportBackup handler, a backup that cannot be copied listed as failed while the others go on,
 * link failures ridden out (and given up on) with a driven clock, and the transfer gate's bound.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { AppError, UnavailableError } from '../../shared/errors.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { silentLogger } from '../../shared/log.js';
import { fromServiceError } from '../../shared/rpc/grpc-errors.js';
import type { ImportBackupRequest } from '../../shared/rpc/generated/bulwark/v1/ImportBackupRequest.js';
import type { ImportBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ImportBackupResponse.js';
import type { FsChunkStore } from '../datastore/fs-chunk-store.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { backupOverWire, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';
import { GrpcPeerStore } from './grpc-peer-store.js';
import { GrpcSyncSink } from './grpc-sync-sink.js';
import { LinkDownError } from './link-guard.js';
import type { PeerChunk, PeerReadOptions, PeerStore } from './peer-store.js';
import { runPushSync, runSiteSync } from './site-sync.js';
import { TransferGate } from './transfer-gate.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

/** Sends ImportBackup messages as given; resolves with the answer or the mapped error. */
function importBackupRaw(client: TestStorage['client'], messages: ImportBackupRequest[]): Promise<ImportBackupResponse__Output> {
  return new Promise((resolve, reject) => {
    const call = client.importBackup((err, res) => (err || !res ? reject(fromServiceError(err, 'ImportBackup')) : resolve(res)));
    for (const m of messages) call.write(m);
    call.end();
  });
}

/** A source whose link fails as told: `failAt` counts GetChunks calls (1-based), each fails after `afterChunks` blobs. */
class FlakySource implements PeerStore {
  calls = 0;
  constructor(
    private readonly inner: PeerStore,
    private readonly failAt: (call: number) => boolean,
    private readonly afterChunks = 2,
  ) {}
  get site(): string {
    return this.inner.site;
  }
  info() {
    return this.inner.info();
  }
  listBackups() {
    return this.inner.listBackups();
  }
  getManifest(id: string, o?: PeerReadOptions) {
    return this.inner.getManifest(id, o);
  }
  getIndex(id: string, disk: string, o?: PeerReadOptions) {
    return this.inner.getIndex(id, disk, o);
  }
  async *getChunks(digests: readonly Buffer[], o?: PeerReadOptions): AsyncIterable<PeerChunk> {
    const call = ++this.calls;
    let sent = 0;
    for await (const chunk of this.inner.getChunks(digests, o)) {
      if (this.failAt(call) && sent === this.afterChunks) throw new UnavailableError('storage site-a is unavailable: Connection dropped');
      sent++;
      yield chunk;
    }
  }
  close() {
    this.inner.close();
  }
}

describe('sync modes and faults (in-process storages over gRPC)', () => {
  let root: string;
  let a: TestStorage;
  let b: TestStorage;
  const clock = new ManualClock();
  const images = [makeDiskImage(2_000_000, 61), makeDiskImage(1_500_000, 62)];
  const ids: string[] = [];
  const sleep = (ms: number) => {
    clock.advance(ms);
    return Promise.resolve();
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-sync-modes-'));
    a = await startTestStorage(join(root, 'a'), 'site-a', clock, CHUNK);
    b = await startTestStorage(join(root, 'b'), 'site-b', clock, CHUNK);
    for (const [i, image] of images.entries()) {
      const { backup } = await backupOverWire(a.client, { vm: `vm${i}`, disk: 'root', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK), jobId: `j${i}` });
      ids.push(backup.backupId);
    }
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('answers a manifest-only ImportBackup with what it knows, and refuses malformed streams naming the field', async () => {
    const manifest = await a.datastore.readManifestFile(ids[0] ?? '');
    const absent = await importBackupRaw(b.client, [{ manifest }]);
    assert.deepEqual([absent.backup, absent.imported, absent.prunedHere], [null, false, false]);
    const present = await importBackupRaw(a.client, [{ manifest }]);
    assert.equal(present.backup?.backupId, ids[0]);
    await assert.rejects(importBackupRaw(b.client, [{ disk: 'root', indexPart: Buffer.alloc(96) }]), (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT' && e.message.includes('manifest'));
    await assert.rejects(
      importBackupRaw(b.client, [{ manifest }, { disk: 'root', indexPart: Buffer.alloc(10 * 1024 * 1024) }]),
      (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT' && e.message.includes('index_part'),
    );
    const index = await a.datastore.readIndexFile(ids[0] ?? '', 'root');
    await assert.rejects(importBackupRaw(b.client, [{ manifest }, { disk: 'root', indexPart: index }]), (e: unknown) => e instanceof AppError && e.name === 'ChunkMissingError');
    assert.equal(b.datastore.catalog.get(ids[0] ?? ''), undefined, 'nothing imported without its chunks');
  });

  it('pushes through GrpcSyncSink: every backup, then nothing; the replica restores them', async () => {
    const sink = new GrpcSyncSink('site-b', b.address);
    try {
      const first = await runPushSync({ datastore: a.datastore, site: 'site-a', sink, clock, log, batchSize: 5 });
      assert.equal(first.mode, 'push');
      assert.deepEqual(first.copied.map((c) => c.backupId), ids);
      assert.ok(first.chunksCopied > 0);
      const second = await runPushSync({ datastore: a.datastore, site: 'site-a', sink, clock, log });
      assert.deepEqual([second.copied.length, second.backupsAlreadyPresent, second.chunksCopied], [0, 2, 0]);
    } finally {
      sink.close();
    }
    for (const [i, id] of ids.entries()) assert.ok((await restoreOverWire(b.client, id, 'root')).equals(images[i] ?? Buffer.alloc(0)));
  });

  it('does not push a backup the replica pruned', async () => {
    await b.datastore.removeBackup(ids[0] ?? '');
    const sink = new GrpcSyncSink('site-b', b.address);
    try {
      const result = await runPushSync({ datastore: a.datastore, site: 'site-a', sink, clock, log });
      assert.deepEqual([result.copied.length, result.backupsPrunedAtReplica, result.backupsAlreadyPresent], [0, 1, 1]);
    } finally {
      sink.close();
    }
    assert.equal(b.datastore.catalog.get(ids[0] ?? ''), undefined);
  });

  it('rides out link failures mid-transfer, writing each chunk once, and lists a backup it cannot copy', async () => {
    const c = await startTestStorage(join(root, 'c'), 'site-c', clock, CHUNK);
    try {
      // A chunk only the second backup uses, gone at the source: that backup fails, the first is copied.
      const used0 = new Set<string>();
      const index0 = await a.datastore.readIndexFile(ids[0] ?? '', 'root');
      for (let at = 96; at < index0.length; at += DIGEST_BYTES) used0.add(digestHex(index0.subarray(at, at + DIGEST_BYTES)));
      const index1 = await a.datastore.readIndexFile(ids[1] ?? '', 'root');
      let lost: Buffer | undefined;
      for (let at = 96; at < index1.length && !lost; at += DIGEST_BYTES) {
        const d = index1.subarray(at, at + DIGEST_BYTES);
        if (!isZeroDigest(d) && !used0.has(digestHex(d))) lost = Buffer.from(d);
      }
      assert.ok(lost);
      const lostPath = (a.datastore.chunks as FsChunkStore).pathOf(lost);
      const lostBlob = await a.datastore.chunks.get(lost);
      await unlink(lostPath);

      const source = new FlakySource(new GrpcPeerStore('site-a', a.address), (call) => call === 2 || call === 3);
      const unique0 = chunkDisk(images[0] ?? Buffer.alloc(0), CHUNK).blobs.size;
      try {
        const result = await runSiteSync({ datastore: c.datastore, site: 'site-c', source, clock, log, sleep, batchSize: 4, concurrency: 1 });
        assert.equal(result.resumes, 1, 'one outage (two failed calls) ridden out');
        assert.deepEqual(result.copied.map((x) => x.backupId), [ids[0]]);
        assert.equal(result.failed.length, 1);
        assert.equal(result.failed[0]?.backupId, ids[1]);
        assert.match(result.failed[0]?.error ?? '', /missing/);
        const distinctCopied = new Set<string>();
        for await (const d of c.datastore.chunks.list()) distinctCopied.add(digestHex(d));
        assert.ok(result.chunksCopied === distinctCopied.size && result.chunksCopied >= unique0, 'each chunk counted once, as written');
      } finally {
        source.close();
        if (lostBlob) await a.datastore.chunks.put(lost, lostBlob);
      }
      assert.ok((await restoreOverWire(c.client, ids[0] ?? '', 'root')).equals(images[0] ?? Buffer.alloc(0)));
    } finally {
      await c.stop();
    }
  });

  it('gives up once the link stays down longer than linkRetryMs, failing clearly when nothing was copied', async () => {
    const d = await startTestStorage(join(root, 'd'), 'site-d', clock, CHUNK);
    const source = new FlakySource(new GrpcPeerStore('site-a', a.address), () => true, 0);
    try {
      await assert.rejects(
        runSiteSync({ datastore: d.datastore, site: 'site-d', source, clock, log, sleep, linkRetryMs: 10_000 }),
        (e: unknown) => e instanceof LinkDownError && e.code === 'UNAVAILABLE' && /down for \d+ ms/.test(e.message),
      );
      assert.ok(source.calls > 3, 'retried with backoff before giving up');
      assert.equal(d.datastore.catalog.size, 0);
    } finally {
      source.close();
      await d.stop();
    }
  });
});

describe('TransferGate', () => {
  it('never lets more blob bytes through than burst + rate × elapsed, with uneven blobs', async () => {
    const clock = new ManualClock();
    const startMs = clock.nowMs();
    const gate = new TransferGate(100_000, 40_000, clock, (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    });
    let passed = 0;
    for (let batch = 0; batch < 40; batch++) {
      const count = gate.batchCount(64);
      assert.ok(count >= 1 && count * gate.blobEstimate <= 100_000 + gate.blobEstimate);
      const reserved = await gate.reserve(count);
      const bytes = count * (batch % 3 === 0 ? 45_000 : 20_000);
      passed += bytes;
      await gate.settle(reserved, count, bytes);
      assert.ok(passed <= 100_000 + (100_000 * (clock.nowMs() - startMs)) / 1000, `after batch ${batch}: ${passed} bytes`);
    }
    const rate = passed / ((clock.nowMs() - startMs) / 1000);
    assert.ok(rate > 90_000, `the limit is used, not wasted (${Math.round(rate)} B/s)`);
  });
});
