import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/log.js';
import { chunkDisk, makeDiskImage } from '../testing/disk-fixture.js';
import { backupOverWire, restoreOverWire, startTestStorage, type TestStorage } from '../testing/test-storage.js';
import { GrpcPeerStore } from './grpc-peer-store.js';
import { runSiteSync } from './site-sync.js';
import { UnreportedCopies } from './unreported-copies.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('copies a dead sync made are reported by the next one', () => {
  let root: string;
  let a: TestStorage;
  let b: TestStorage;
  const clock = new ManualClock();
  const images = [makeDiskImage(400_000, 3), makeDiskImage(400_000, 4)];
  const ids: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-unreported-'));
    a = await startTestStorage(join(root, 'a'), 'a', clock, CHUNK);
    b = await startTestStorage(join(root, 'b'), 'b', clock, CHUNK);
    for (const [i, image] of images.entries()) {
      ids.push((await backupOverWire(a.client, { vm: 'vm', disk: 'd', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK), jobId: `j${i}` })).backup.backupId);
    }
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a copy until a stored result reported it, across a sync that died and a restart', async () => {
    const path = join(root, 'b', 'replication', 'unreported.json');
    const tmp = join(root, 'b', 'tmp');
    const sync = async (unreported: UnreportedCopies, signal?: AbortSignal, onProgress?: (done: number) => void) => {
      const source = new GrpcPeerStore('a', a.address);
      try {
        return await runSiteSync({ datastore: b.datastore, site: 'b', source, clock, log, unreported, signal, progress: (_p, done) => onProgress?.(done) });
      } finally {
        source.close();
      }
    };
    // The first run dies after importing the first backup: its result never reaches anyone.
    const abort = new AbortController();
    await assert.rejects(sync(await UnreportedCopies.open(path, tmp, log), abort.signal, (done) => done === 1 && abort.abort()));
    assert.ok(b.datastore.catalog.get(ids[0] ?? ''), 'the first backup was imported');
    // After a restart, the next run finds it present but still reports it, with the new copy.
    const reopened = await UnreportedCopies.open(path, tmp, log);
    assert.deepEqual(reopened.list().map((c) => c.backupId), [ids[0]]);
    const second = await sync(reopened);
    assert.equal(second.backupsAlreadyPresent, 1);
    assert.deepEqual(second.copied.map((c) => c.backupId).sort(), [...ids].sort());
    assert.ok(second.copied.every((c) => c.site === 'b'));
    // Once that result is stored, they are forgotten.
    await reopened.confirm(second.copied);
    assert.deepEqual((await UnreportedCopies.open(path, tmp, log)).list(), []);
    const third = await sync(reopened);
    assert.deepEqual(third.copied, []);
    for (const [i, id] of ids.entries()) assert.ok((await restoreOverWire(b.client, id, 'd')).equals(images[i] ?? Buffer.alloc(0)));
  });
});
