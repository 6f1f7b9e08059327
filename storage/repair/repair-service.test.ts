/**
 * The repair service between two real storages over gRPC (in process): damage met on the read
 * path is healed from the other site in both directions, transparently; manifests and indexes
 * heal too; what no peer can supply raises an alert that names the ranges and is resolved when
 * the chunk comes back; the scrub finds and heals damage at a bounded rate and resumes.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, truncate, unlink, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../shared/clock.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { TokenBucket } from '../../shared/flow/token-bucket.js';
import { silentLogger } from '../../shared/log.js';
import type { WorkerEvent } from '../../shared/messages/events.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import type { FsChunkStore } from '../datastore/fs-chunk-store.js';
import { GrpcPeerStore } from '../replication/grpc-peer-store.js';
import { runSiteSync } from '../replication/site-sync.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { startRepairingStorage, type RepairingStorage } from '../testing/test-repair.js';
import { backupOverWire, restoreOverWire } from '../testing/test-storage.js';
import { Scrubber } from './scrub.js';

const CHUNK = 64 * 1024;
const log = silentLogger();
const clock = systemClock;

/** The distinct non-zero digests of a backup's disk, with the offset of their first use. */
async function chunksOf(s: RepairingStorage, backupId: string, disk = 'root'): Promise<{ digest: Buffer; offset: number }[]> {
  const index = decodeFixedIndex(await s.datastore.readIndexFile(backupId, disk));
  const out: { digest: Buffer; offset: number }[] = [];
  for (let i = 0; i < index.chunkCount; i++) {
    const digest = Buffer.from(index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    if (!isZeroDigest(digest) && !out.some((o) => o.digest.equals(digest))) out.push({ digest, offset: i * CHUNK });
  }
  return out;
}

function pathOf(s: RepairingStorage, digest: Buffer): string {
  return (s.datastore.chunks as FsChunkStore).pathOf(digest);
}

async function flipLastByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

/** Damages three chunks three ways: a bit flip, a truncation, a deletion. */
async function damageThree(s: RepairingStorage, picked: readonly { digest: Buffer }[]): Promise<void> {
  const [flip, cut, gone] = picked.map((p) => pathOf(s, p.digest));
  assert.ok(flip && cut && gone);
  await flipLastByte(flip);
  await truncate(cut, 1000);
  await unlink(gone);
}

function repairsIn(events: readonly WorkerEvent[]) {
  return events.flatMap((e) => (e.type === 'repair' ? [e.repair] : []));
}

describe('repair service: two sites heal each other', () => {
  let root: string;
  let a: RepairingStorage;
  let b: RepairingStorage;
  const image = makeDiskImage(2_000_000, 61);
  let backupId = '';

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-repair-'));
    a = await startRepairingStorage(join(root, 'a'), 'a', ['b'], clock, log, CHUNK);
    b = await startRepairingStorage(join(root, 'b'), 'b', ['a'], clock, log, CHUNK);
    a.peers.learn('b', b.address);
    b.peers.learn('a', a.address);
    backupId = (await backupOverWire(a.client, { vm: 'app', disk: 'root', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK), jobId: 'j1' })).backup.backupId;
    const source = new GrpcPeerStore('a', a.address);
    try {
      await runSiteSync({ datastore: b.datastore, site: 'b', source, clock, log });
    } finally {
      source.close();
    }
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('heals damaged and missing chunks on the read path at A from B, transparently, and records each repair', async () => {
    const picked = (await chunksOf(a, backupId)).slice(0, 3);
    await damageThree(a, picked);
    assert.ok((await restoreOverWire(a.client, backupId, 'root')).equals(image), 'the reader gets good data');
    await a.journal.drain();
    const repairs = repairsIn(a.events);
    assert.equal(repairs.length, 3);
    for (const p of picked) {
      const record = repairs.find((r) => r.digest === digestHex(p.digest));
      assert.ok(record, `repair of ${digestHex(p.digest)} recorded`);
      assert.equal(record.site, 'a');
      assert.equal(record.peer, 'b');
      assert.equal(record.trigger, 'read');
      assert.ok(record.bytes > 0);
      assert.ok(record.affected.some((r) => r.backupId === backupId && r.vm === 'app' && r.disk === 'root' && r.offsetBytes <= p.offset && p.offset < r.offsetBytes + r.lengthBytes));
    }
    assert.deepEqual(repairs.map((r) => r.problem).sort(), ['checksum mismatch', 'missing', repairs.find((r) => r.digest === digestHex(picked[1]?.digest ?? Buffer.alloc(0)))?.problem].sort());
    // The two damaged blobs are kept aside, never overwritten; the deleted one had nothing to keep.
    const quarantined = (await readdir(join(a.dir, 'quarantine'))).filter((f) => !f.endsWith('.reason'));
    assert.equal(quarantined.length, 2);
    // A second read needs no repair.
    assert.ok((await restoreOverWire(a.client, backupId, 'root')).equals(image));
    assert.equal(repairsIn(a.events).length, 3);
  });

  it('heals the other way: B from A, with concurrent readers of one damaged chunk sharing one repair', async () => {
    const [first] = await chunksOf(b, backupId);
    assert.ok(first);
    await flipLastByte(pathOf(b, first.digest));
    const before = repairsIn(b.events).length;
    const reads = await Promise.all(
      Array.from({ length: 5 }, async () => {
        for await (const msg of readServerStream('GetChunks', b.client.getChunks({ digests: [first.digest] }))) return msg.blob;
        return undefined;
      }),
    );
    assert.ok(reads.every((blob) => blob !== undefined && blob.equals(reads[0] ?? Buffer.alloc(0))));
    await b.journal.drain();
    const repairs = repairsIn(b.events).slice(before);
    assert.equal(repairs.length, 1);
    assert.equal(repairs[0]?.peer, 'a');
    assert.ok((await restoreOverWire(b.client, backupId, 'root')).equals(image));
  });

  it('heals a damaged index and a lost manifest from the peer', async () => {
    const dir = join(a.dir, 'backups', 'app', backupId);
    const index = await readFile(join(dir, 'root.fidx'));
    index[index.length - 5] = (index[index.length - 5] ?? 0) ^ 0xff;
    await writeFile(join(dir, 'root.fidx'), index);
    assert.ok((await restoreOverWire(a.client, backupId, 'root')).equals(image));
    await unlink(join(dir, 'manifest.json'));
    const got = await callUnary<{ backupId: string }, { manifest: Buffer }>('GetManifest', a.client.getManifest.bind(a.client), { backupId });
    assert.deepEqual(got.manifest, await b.datastore.readManifestFile(backupId));
    await a.journal.drain();
    const files = repairsIn(a.events).filter((r) => r.object !== 'chunk');
    assert.deepEqual(files.map((r) => [r.object, r.backupId, r.disk, r.peer]), [
      ['index', backupId, 'root', 'b'],
      ['manifest', backupId, null, 'b'],
    ]);
    assert.equal(files[0]?.problem, 'body checksum mismatch');
    assert.equal(files[1]?.problem, 'missing');
    assert.ok(files[0]?.affected.some((r) => r.disk === 'root' && r.offsetBytes === 0 && r.lengthBytes === image.length));
  });

  it('raises an alert naming the ranges when no site has a good copy, and resolves it when the chunk comes back', async () => {
    const [victim] = (await chunksOf(a, backupId)).slice(-1);
    assert.ok(victim);
    const hex = digestHex(victim.digest);
    const good = await readFile(pathOf(a, victim.digest));
    await unlink(pathOf(a, victim.digest));
    await unlink(pathOf(b, victim.digest));
    await assert.rejects(restoreOverWire(a.client, backupId, 'root'), (err: Error) => /no peer could supply it/.test(err.message));
    await a.journal.drain();
    const alerts = a.events.filter((e) => e.type === 'alert.raised');
    assert.equal(alerts.length, 1);
    const alert = alerts[0]?.type === 'alert.raised' ? alerts[0].alert : undefined;
    assert.equal(alert?.digest, hex);
    assert.deepEqual(alert?.peersTried.map((p) => p.site), ['b']);
    assert.ok(alert?.affected.some((r) => r.backupId === backupId && r.disk === 'root' && r.offsetBytes === victim.offset));
    assert.match(alert?.message ?? '', new RegExp(`VM app disk root bytes ${victim.offset}-`));
    // B asked A for it too: B's own alert, and no loop between the two sites.
    await assert.rejects(restoreOverWire(b.client, backupId, 'root'));
    const listed = await callUnary<{ vm: string }, ListBackupsResponse__Output>('ListBackups', a.client.listBackups.bind(a.client), { vm: '' });
    assert.match(listed.backups[0]?.damage ?? '', new RegExp(`unrecoverable: chunk ${hex}`));

    // A later backup re-sends the chunk (FindMissing reports it missing): the alert resolves.
    await writeFile(pathOf(a, victim.digest), good);
    await a.service.recheckAlerts();
    await a.journal.drain();
    const resolved = a.events.filter((e) => e.type === 'alert.resolved');
    assert.equal(resolved.length, 1);
    assert.equal(resolved[0]?.type === 'alert.resolved' ? resolved[0].alertId : '', alert?.alertId);
    assert.equal(a.journal.damageOf(backupId), null);
    assert.ok((await restoreOverWire(a.client, backupId, 'root')).equals(image));
    // B heals from A now.
    await b.service.recheckAlerts();
    assert.ok((await restoreOverWire(b.client, backupId, 'root')).equals(image));
  });

  it('scrubs at a bounded rate, heals what it finds, and resumes an interrupted pass', async () => {
    const picked = (await chunksOf(b, backupId)).slice(3, 6);
    await damageThree(b, picked);
    const rate = 2 * 1024 * 1024;
    const burst = 128 * 1024;
    const limiter = new TokenBucket({ rateBytesPerSecond: rate, burstBytes: burst }, clock, (ms) => sleep(ms));
    // Interrupt the first pass after a few chunks; the next one starts from the saved cursor.
    const abort = new AbortController();
    let takes = 0;
    const bucket = {
      take: (bytes: number) => {
        if (++takes === 4) abort.abort();
        return limiter.take(bytes);
      },
    };
    const scrubber = new Scrubber({ datastore: b.datastore, repair: b.service, bucket, clock, log, saveEveryMs: 0 });
    await assert.rejects(scrubber.runPass(abort.signal), { name: 'AbortError' });
    const startedMs = clock.nowMs();
    const pass = await scrubber.runPass();
    const elapsedS = (clock.nowMs() - startedMs) / 1000;
    assert.equal(pass.resumed, true);
    const total = (await chunksOf(b, backupId)).length;
    assert.ok(pass.chunksChecked < total, `the resumed pass checked ${pass.chunksChecked} of ${total}`);
    assert.ok(pass.bytesChecked <= burst + rate * elapsedS + 64 * 1024, 'never faster than the limit allows');
    const full = await scrubber.runPass();
    assert.equal(full.resumed, false);
    assert.equal(full.chunksChecked, total);
    assert.equal(full.damaged, 0, 'every damaged chunk was healed by the first two passes');
    await b.journal.drain();
    const scrubbed = repairsIn(b.events).filter((r) => r.trigger === 'scrub').map((r) => r.digest);
    for (const p of picked) assert.ok(scrubbed.includes(digestHex(p.digest)), `scrub healed ${digestHex(p.digest)}`);
    assert.ok((await restoreOverWire(b.client, backupId, 'root')).equals(image));
  });

  it('heals at start a manifest lost while the storage was down', async () => {
    const dir = join(b.dir, 'backups', 'app', backupId);
    await b.stop();
    await unlink(join(dir, 'manifest.json'));
    b = await startRepairingStorage(join(root, 'b'), 'b', ['a'], clock, log, CHUNK);
    b.peers.learn('a', a.address);
    assert.equal(b.datastore.catalog.get(backupId), undefined);
    assert.equal(b.datastore.damagedAtOpen.length, 1);
    assert.deepEqual(await b.service.healDamagedAtOpen(), { healed: 1, unrecoverable: 0 });
    assert.equal(b.datastore.catalog.get(backupId)?.backupId, backupId);
    assert.ok((await restoreOverWire(b.client, backupId, 'root')).equals(image));
  });
});
