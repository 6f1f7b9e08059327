import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { DIGEST_BYTES, digestHex, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { silentLogger } from '../../shared/log.js';
import { runVerify } from '../repair/verify.js';
import type { FsChunkStore } from '../datastore/fs-chunk-store.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { startTestRepair } from '../testing/test-repair.js';
import { backupOverWire, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';
import { GrpcPeerStore } from './grpc-peer-store.js';
import { runSiteSync } from './site-sync.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('two sites: sync, then verify and repair', () => {
  let root: string;
  let a: TestStorage;
  let b: TestStorage;
  const clock = new ManualClock();
  const image = makeDiskImage(3_000_000, 51);
  const changed = Buffer.from(image);
  changed.fill(0x42, 1_500_000, 1_500_010);
  const backupIds: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-sites-'));
    a = await startTestStorage(join(root, 'a'), 'site-a', clock, CHUNK);
    b = await startTestStorage(join(root, 'b'), 'site-b', clock, CHUNK);
    const first = await backupOverWire(a.client, { vm: 'app', disk: 'root', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK), jobId: 'j1' });
    backupIds.push(first.backup.backupId);
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await rm(root, { recursive: true, force: true });
  });

  const sync = async () => {
    const source = new GrpcPeerStore('site-a', a.address);
    try {
      return await runSiteSync({ datastore: b.datastore, site: 'site-b', source, clock, log, batchSize: 7 });
    } finally {
      source.close();
    }
  };
  const verify = async (at: TestStorage, site: string, repair: boolean, peer: { site: string; address: string }) => {
    const healer = await startTestRepair(at.datastore, site, [{ site: 'nowhere', address: '127.0.0.1:1' }, peer], clock, log);
    try {
      return await runVerify({ datastore: at.datastore, site, repair, repairService: healer.service, clock, log });
    } finally {
      healer.close();
    }
  };

  it('copies only the missing chunks, and nothing on a second run', async () => {
    const distinct = chunkDisk(image, CHUNK).blobs.size;
    const firstRun = await sync();
    assert.equal(firstRun.copied.length, 1);
    assert.equal(firstRun.copied[0]?.backupId, backupIds[0]);
    assert.equal(firstRun.copied[0]?.site, 'site-b');
    assert.equal(firstRun.chunksCopied, distinct);
    assert.ok(firstRun.bytesCopied > 0);
    assert.deepEqual(await b.datastore.readManifestFile(backupIds[0] ?? ''), await a.datastore.readManifestFile(backupIds[0] ?? ''));

    const again = await sync();
    assert.equal(again.copied.length, 0);
    assert.equal(again.backupsAlreadyPresent, 1);
    assert.equal(again.chunksCopied, 0);

    const second = await backupOverWire(a.client, { vm: 'app', disk: 'root', sizeBytes: changed.length, chunked: chunkDisk(changed, CHUNK), jobId: 'j2' });
    backupIds.push(second.backup.backupId);
    const incremental = await sync();
    assert.equal(incremental.copied.length, 1);
    assert.equal(incremental.chunksCopied, 1);
    assert.deepEqual(
      b.datastore.catalog.list().map((m) => m.backupId),
      backupIds,
    );
    assert.ok((await restoreOverWire(b.client, backupIds[1] ?? '', 'root')).equals(changed));
  });

  it('heals a bit flip, a truncation and a deletion at A from B, and names each', async () => {
    const index = await a.datastore.readIndexFile(backupIds[0] ?? '', 'root');
    const body = index.subarray(96);
    const picked: { digest: Buffer; offset: number }[] = [];
    for (let i = 0; i < body.length / DIGEST_BYTES && picked.length < 3; i += 5) {
      const digest = body.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
      if (isZeroDigest(digest) || picked.some((p) => p.digest.equals(digest))) continue;
      picked.push({ digest: Buffer.from(digest), offset: i * CHUNK });
    }
    assert.equal(picked.length, 3);
    const store = a.datastore.chunks as FsChunkStore;
    const [flip, cut, gone] = picked.map((p) => store.pathOf(p.digest));
    assert.ok(flip && cut && gone);
    const flipped = await readFile(flip);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0x01;
    await writeFile(flip, flipped);
    await truncate(cut, 1000);
    await unlink(gone);

    const found = await verify(a, 'site-a', true, { site: 'site-b', address: b.address });
    assert.equal(found.damagedFiles.length, 0);
    assert.equal(found.chunks.length, 3);
    assert.equal(found.repaired, 3);
    assert.equal(found.unrepaired, 0);
    const byDigest = new Map(found.chunks.map((c) => [c.digest, c]));
    const problems = picked.map((p) => byDigest.get(digestHex(p.digest))?.problem);
    assert.equal(problems[0], 'checksum mismatch');
    assert.match(problems[1] ?? '', /length 1000 does not match header|truncated/);
    assert.equal(problems[2], 'missing');
    for (const p of picked) {
      const finding = byDigest.get(digestHex(p.digest));
      assert.equal(finding?.outcome, 'repaired');
      assert.equal(finding?.peer, 'site-b');
      assert.ok((finding?.bytes ?? 0) > 0);
      assert.ok(finding?.backups.some((ref) => ref.backupId === backupIds[0] && ref.disk === 'root' && ref.vm === 'app' && ref.offsetBytes === p.offset));
    }
    const quarantined = await readdir(join(root, 'a', 'quarantine'));
    assert.equal(quarantined.filter((f) => !f.endsWith('.reason')).length, 2);
    assert.deepEqual([...found.verifiedBackupIds].sort(), [...backupIds].sort());

    const clean = await verify(a, 'site-a', false, { site: 'site-b', address: b.address });
    assert.equal(clean.chunks.length, 0);
    assert.equal(clean.damagedFiles.length, 0);
    assert.equal(clean.chunksChecked, found.chunksChecked);
    assert.deepEqual([...clean.verifiedBackupIds].sort(), [...backupIds].sort());

    assert.ok((await restoreOverWire(a.client, backupIds[0] ?? '', 'root')).equals(image));
    assert.ok((await restoreOverWire(a.client, backupIds[1] ?? '', 'root')).equals(changed));
  });

  it('reports what it cannot repair without a peer, then heals a chunk and a damaged index from A', async () => {
    const manifest = b.datastore.backup(backupIds[1] ?? '');
    const index = await b.datastore.readIndexFile(manifest.backupId, 'root');
    const digest = index.subarray(96, 96 + DIGEST_BYTES);
    await unlink((b.datastore.chunks as FsChunkStore).pathOf(digest));
    const report = await verify(b, 'site-b', false, { site: 'site-a', address: a.address });
    assert.equal(report.unrepaired, 1);
    assert.equal(report.chunks[0]?.problem, 'missing');
    assert.equal(report.chunks[0]?.outcome, 'unrepaired');
    assert.equal(report.verifiedBackupIds.length, 0);

    const indexPath = join(root, 'b', 'backups', 'app', backupIds[0] ?? '', 'root.fidx');
    const damaged = await readFile(indexPath);
    damaged[200] = (damaged[200] ?? 0) ^ 0xff;
    await writeFile(indexPath, damaged);
    const healed = await verify(b, 'site-b', true, { site: 'site-a', address: a.address });
    assert.equal(healed.repaired, 1);
    assert.deepEqual(healed.damagedFiles, [
      { backupId: backupIds[0], file: `backups/app/${backupIds[0]}/root.fidx`, problem: 'body checksum mismatch', outcome: 'repaired', peer: 'site-a' },
    ]);
    // The index was healed from A before the backup was checked: both backups verify.
    assert.deepEqual([...healed.verifiedBackupIds].sort(), [...backupIds].sort());
    assert.ok((await restoreOverWire(b.client, backupIds[0] ?? '', 'root')).equals(image));
    assert.ok((await restoreOverWire(b.client, backupIds[1] ?? '', 'root')).equals(changed));
  });
});
