import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import type { DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { ChunkMissingError, CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { chunkDigest, digestHex } from '../../shared/format/chunk-digest.js';
import { encodeBlob } from '../../shared/format/blob.js';
import { silentLogger } from '../../shared/log.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { runBackup } from '../backup/backup-job.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { defaultRestoreTuning, runRestore, type RestoreTuning } from './restore-job.js';

const CHUNK = 64 * 1024;
const log = silentLogger();
const plain = { keys: null, openProcessor: (k: DatastoreKeys | null) => new InlineChunkProcessor(k) };

describe('restore job (in-memory store)', () => {
  let dir: string;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-b', CHUNK);
  const size = 128 * CHUNK + 4321;
  const block = seededBytes(5, CHUNK);
  let source: Buffer;
  let otherSource: Buffer;
  let backupId: string;
  let otherBackupId: string;
  let seq = 0;

  const restore = (id: string, over: { vm?: string; targetDir?: string } = {}, tuning?: RestoreTuning) =>
    runRestore(
      { backupId: id, vm: over.vm ?? 'vm1', targetDir: over.targetDir ?? join(dir, `out-${++seq}`) },
      { store, log, clock, progress: () => undefined, ...plain },
      tuning,
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-restore-'));
    const disk = join(dir, 'disk.raw');
    const other = join(dir, 'other.raw');
    // Mostly zeros; one block repeated at 20 positions; random data at the start and in the short tail.
    await writeDiskImage(disk, size, [
      { offset: 0, data: seededBytes(1, 3 * CHUNK) },
      ...Array.from({ length: 20 }, (_, i) => ({ offset: (10 + 5 * i) * CHUNK, data: block })),
      { offset: 128 * CHUNK, data: seededBytes(2, 4321) },
    ]);
    await writeDiskImage(other, 4 * CHUNK, [{ offset: CHUNK, data: seededBytes(3, CHUNK) }]);
    source = await readFile(disk);
    otherSource = await readFile(other);
    const driver = new FilesDriver(
      {
        kind: 'files',
        vms: [
          { name: 'vm1', disks: [{ name: 'disk0', path: disk }] },
          { name: 'vm2', disks: [{ name: 'disk0', path: other }] },
        ],
      },
      log,
    );
    const deps = { driver, store, log, clock, progress: () => undefined, ...plain };
    backupId = (await runBackup({ jobId: 'j1', attempt: 1, vm: 'vm1', mode: 'full' }, deps)).backup.backupId;
    clock.advance(1000);
    otherBackupId = (await runBackup({ jobId: 'j2', attempt: 1, vm: 'vm2', mode: 'full' }, deps)).backup.backupId;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a sparse image byte for byte, fetching each distinct chunk once per batch', async () => {
    const requests: Buffer[][] = [];
    const original = store.getChunks.bind(store);
    store.getChunks = (digests) => {
      requests.push([...digests]);
      return original(digests);
    };
    const progress: number[] = [];
    try {
      const target = join(dir, 'nested', 'target');
      const result = await runRestore(
        { backupId, vm: 'vm1', targetDir: target },
        { store, log, clock, ...plain, progress: (_p, done, total) => progress.push(done / total) },
        { ...defaultRestoreTuning, getChunksBatch: 2 },
      );
      const path = join(target, 'disk0.img');
      assert.deepEqual(result.disks, [{ name: 'disk0', path, sizeBytes: size }]);
      assert.equal(result.site, 'site-b');
      assert.equal(result.backupId, backupId);
      assert.ok((await readFile(path)).equals(source));
      assert.ok(!existsSync(`${path}.partial`));
      const st = await stat(path);
      assert.ok(st.blocks * 512 < size / 2, `sparse: ${st.blocks * 512} of ${size} bytes allocated`);
      assert.equal(result.bytesWritten, 3 * CHUNK + 20 * CHUNK + 4321);
      for (const r of requests) {
        assert.ok(r.length <= 2);
        assert.equal(new Set(r.map(digestHex)).size, r.length, 'no digest twice in one batch');
      }
      const blockHex = digestHex(chunkDigest(block));
      assert.equal(requests.flat().filter((d) => digestHex(d) === blockHex).length, result.chunksFetched - 4);
      assert.equal(progress.at(-1), 1);
    } finally {
      store.getChunks = original;
    }
  });

  it('keeps the zero 4 KiB blocks inside a chunk as holes', async () => {
    // Each chunk holds 4 KiB of data at its start and zeros after it, as a sparse guest file would.
    const path = join(dir, 'partly.raw');
    const chunks = 16;
    await writeDiskImage(path, chunks * CHUNK, Array.from({ length: chunks }, (_, i) => ({ offset: i * CHUNK, data: seededBytes(100 + i, 4096) })));
    const driver = new FilesDriver({ kind: 'files', vms: [{ name: 'vm3', disks: [{ name: 'disk0', path }] }] }, log);
    clock.advance(1000);
    const made = await runBackup({ jobId: 'j3', attempt: 1, vm: 'vm3', mode: 'full' }, { driver, store, log, clock, progress: () => undefined, ...plain });
    const target = join(dir, 'partly-out');
    await runRestore({ backupId: made.backup.backupId, vm: 'vm3', targetDir: target }, { store, log, clock, progress: () => undefined, ...plain });
    const restored = join(target, 'disk0.img');
    assert.ok((await readFile(restored)).equals(await readFile(path)));
    const allocated = (await stat(restored)).blocks * 512;
    assert.ok(allocated <= chunks * 4096 * 2, `only the data blocks are allocated: ${allocated} bytes for ${chunks * 4096} bytes of data`);
  });

  it('with the default batch the repeated block is fetched once', async () => {
    const result = await restore(backupId);
    assert.equal(result.chunksFetched, 3 + 1 + 1);
    assert.ok((await readFile(result.disks[0]!.path)).equals(source));
    const other = await restore(otherBackupId, { vm: 'vm2' });
    assert.ok((await readFile(other.disks[0]!.path)).equals(otherSource));
  });

  it('refuses to overwrite an existing image and names it', async () => {
    const target = join(dir, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'disk0.img'), 'precious');
    await assert.rejects(restore(backupId, { targetDir: target }), (err: unknown) => {
      assert.ok(err instanceof PreconditionError);
      assert.match(err.message, new RegExp(`${join(target, 'disk0.img')} already exists`));
      return true;
    });
    assert.equal(await readFile(join(target, 'disk0.img'), 'utf8'), 'precious');
  });

  it('refuses an index whose SHA-256 differs from the manifest, before writing anything', async () => {
    const key = `${backupId}/disk0`;
    const good = store.indexFiles.get(key)!;
    store.indexFiles.set(key, store.indexFiles.get(`${otherBackupId}/disk0`)!);
    const target = join(dir, 'bad-index');
    try {
      await assert.rejects(restore(backupId, { targetDir: target }), (err: unknown) => {
        assert.ok(err instanceof CorruptDataError);
        assert.match(err.message, /index of disk disk0 .* does not match the manifest/);
        return true;
      });
      assert.ok(!existsSync(target));
    } finally {
      store.indexFiles.set(key, good);
    }
  });

  it('refuses a manifest that names another backup, and a backup of another VM', async () => {
    const good = store.manifests.get(backupId)!;
    store.manifests.set(backupId, store.manifests.get(otherBackupId)!);
    try {
      await assert.rejects(restore(backupId), (err: unknown) => err instanceof CorruptDataError && /names backup/.test(err.message));
    } finally {
      store.manifests.set(backupId, good);
    }
    await assert.rejects(restore(otherBackupId, { vm: 'vm1' }), PreconditionError);
  });

  it('refuses a damaged or missing chunk and leaves no image behind', async () => {
    const hex = digestHex(chunkDigest(block));
    const good = store.blobs.get(hex)!;
    // A valid blob of other bytes: passes the CRC, fails the digest check.
    store.blobs.set(hex, encodeBlob(seededBytes(77, CHUNK)));
    const target = join(dir, 'damaged');
    try {
      await assert.rejects(restore(backupId, { targetDir: target }), (err: unknown) => {
        assert.ok(err instanceof CorruptDataError);
        assert.match(err.message, /does not match its digest/);
        return true;
      });
      assert.ok(!existsSync(join(target, 'disk0.img')));
      store.blobs.delete(hex);
      await assert.rejects(restore(backupId, { targetDir: target }), ChunkMissingError);
      assert.ok(!existsSync(join(target, 'disk0.img')));
    } finally {
      store.blobs.set(hex, good);
    }
    // A later attempt overwrites the stale .partial and succeeds.
    const result = await restore(backupId, { targetDir: target });
    assert.ok((await readFile(result.disks[0]!.path)).equals(source));
  });
});
