import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { generateKeyMaterial, keysFromMaterial, type DatastoreKeys } from '../../shared/crypto/datastore-keys.js';
import { sealKeyFile } from '../../shared/crypto/key-file.js';
import { ConfigError, CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { BlobKeyError, checkBlob } from '../../shared/format/blob.js';
import { chunkDigest, digestHex, DIGEST_BYTES, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeManifest, encodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { ChunkWorkerError, WorkerChunkProcessor } from '../adapters/worker-chunk-processor.js';
import { runBackup } from '../backup/backup-job.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import type { ChunkProcessor, ChunkProcessorOptions } from '../ports/chunk-processor.js';
import { runRestore } from '../restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { loadAgentKeys } from './agent-keys.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('agent key file', () => {
  let dir: string;
  const material = generateKeyMaterial();
  const fingerprint = keysFromMaterial(material).fingerprint;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-agent-key-'));
    await writeFile(join(dir, 'key.json'), JSON.stringify(sealKeyFile(material, 'correct horse battery', new Date(0).toISOString(), 14)));
    await writeFile(join(dir, 'pass'), 'correct horse battery\n');
    await writeFile(join(dir, 'wrong'), 'wrong horse battery\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the key with the passphrase file (trailing newline dropped); no encryption: no key', async () => {
    const keys = await loadAgentKeys('agent.json', { keyFile: join(dir, 'key.json'), passphraseFile: join(dir, 'pass') });
    assert.equal(keys?.fingerprint, fingerprint);
    assert.equal(await loadAgentKeys('agent.json', undefined), null);
  });

  it('refuses a wrong passphrase naming the key, and an unreadable or invalid key file', async () => {
    await assert.rejects(loadAgentKeys('agent.json', { keyFile: join(dir, 'key.json'), passphraseFile: join(dir, 'wrong') }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.field, 'encryption.passphraseFile');
      assert.match(err.message, new RegExp(`does not open key ${fingerprint}`));
      return true;
    });
    await assert.rejects(loadAgentKeys('agent.json', { keyFile: join(dir, 'nope.json'), passphraseFile: join(dir, 'pass') }), /encryption\.keyFile: cannot read/);
    await assert.rejects(loadAgentKeys('agent.json', { keyFile: join(dir, 'pass'), passphraseFile: join(dir, 'pass') }), /encryption\.keyFile: .* not a key file/);
  });
});

describe('encrypted backup, restore and verify (in-memory store)', () => {
  let dir: string;
  const clock = new ManualClock();
  const keys = keysFromMaterial(generateKeyMaterial());
  const otherKeys = keysFromMaterial(generateKeyMaterial());
  const store = new MemoryBlockStore(clock, 'site-e', CHUNK, keys.fingerprint);
  const plainStore = new MemoryBlockStore(clock, 'site-p', CHUNK);
  const processors: WorkerChunkProcessor[] = [];
  const openProcessor = (k: DatastoreKeys | null, o: ChunkProcessorOptions): ChunkProcessor => {
    const p = new WorkerChunkProcessor(k, { ...o, threads: 2 });
    processors.push(p);
    return p;
  };
  let driver: FilesDriver;
  let images: Record<string, Buffer>;
  let backupId: string;
  let seq = 0;
  const shared = seededBytes(9, CHUNK);

  const backup = (over: { store?: MemoryBlockStore; keys?: DatastoreKeys | null; open?: (k: DatastoreKeys | null, o: ChunkProcessorOptions) => ChunkProcessor } = {}) =>
    runBackup(
      { jobId: `job-${++seq}`, attempt: 1, vm: 'vm1', mode: 'full' },
      { driver, store: over.store ?? store, log, clock, keys: over.keys === undefined ? keys : over.keys, openProcessor: over.open ?? openProcessor, progress: () => undefined },
    );
  const restore = (over: { id?: string; keys?: DatastoreKeys | null; store?: MemoryBlockStore; verifyOnly?: boolean; targetDir?: string } = {}) =>
    runRestore(
      { backupId: over.id ?? backupId, vm: 'vm1', targetDir: over.targetDir ?? join(dir, `out-${++seq}`), verifyOnly: over.verifyOnly ?? false },
      { store: over.store ?? store, log, clock, keys: over.keys === undefined ? keys : over.keys, openProcessor, progress: () => undefined },
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-encrypted-'));
    await writeDiskImage(join(dir, 'root.raw'), 40 * CHUNK + 999, [
      { offset: 0, data: Buffer.from('secret text, compressible, secret text\n'.repeat(20_000)) },
      { offset: 20 * CHUNK, data: shared },
      { offset: 40 * CHUNK, data: seededBytes(2, 999) },
    ]);
    await writeDiskImage(join(dir, 'data.raw'), 16 * CHUNK, [{ offset: 4 * CHUNK, data: shared }, { offset: 9 * CHUNK, data: seededBytes(3, CHUNK) }]);
    images = { root: await readFile(join(dir, 'root.raw')), data: await readFile(join(dir, 'data.raw')) };
    driver = new FilesDriver(
      { kind: 'files', vms: [{ name: 'vm1', disks: [{ name: 'root', path: join(dir, 'root.raw') }, { name: 'data', path: join(dir, 'data.raw') }] }] },
      log,
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores only sealed blobs under keyed digests, signs the content, and restores byte for byte', async () => {
    const result = await backup();
    backupId = result.backup.backupId;
    assert.equal(result.chunksSent, 12 + 1 + 1 + 1);
    for (const [hex, blob] of store.blobs) {
      assert.equal(checkBlob(blob).encrypted, true);
      assert.ok(!blob.includes(Buffer.from('secret text')), `blob ${hex} holds no plaintext`);
    }
    assert.ok(!store.blobs.has(digestHex(chunkDigest(shared))), 'digests are keyed, not SHA-256');
    assert.ok(store.blobs.has(digestHex(new ChunkCodec(keys).digest(shared))));
    const manifest = decodeManifest(store.manifests.get(backupId)!);
    assert.equal(manifest.keyFingerprint, keys.fingerprint);
    assert.match(manifest.contentHmac ?? '', /^[0-9a-f]{64}$/);

    const target = join(dir, 'restored');
    const restored = await restore({ targetDir: target });
    for (const [name, bytes] of Object.entries(images)) assert.ok((await readFile(join(target, `${name}.img`))).equals(bytes), `${name} byte for byte`);
    assert.equal(restored.verifyOnly, false);
    assert.ok(processors.every((p) => p.liveThreads === 0), 'every job closed its threads');
  });

  it('refuses a wrong key, no key, and a key on a plain datastore, naming both fingerprints and changing nothing', async () => {
    const begins = store.calls.get('beginBackup');
    const cases: { store: MemoryBlockStore; keys: DatastoreKeys | null; message: RegExp }[] = [
      { store, keys: otherKeys, message: new RegExp(`encrypted with key ${keys.fingerprint}, but this agent holds key ${otherKeys.fingerprint}`) },
      { store, keys: null, message: new RegExp(`encrypted with key ${keys.fingerprint} and this agent has no key \\(agent key: none\\)`) },
      { store: plainStore, keys, message: new RegExp(`not encrypted \\(datastore key: none\\) but this agent holds key ${keys.fingerprint}`) },
    ];
    for (const c of cases) {
      await assert.rejects(backup({ store: c.store, keys: c.keys }), (err: unknown) => err instanceof PreconditionError && c.message.test(err.message));
      const target = join(dir, `refused-${++seq}`);
      await assert.rejects(restore({ store: c.store, keys: c.keys, targetDir: target }), (err: unknown) => err instanceof PreconditionError && c.message.test(err.message));
      assert.ok(!existsSync(target), 'no directory created');
    }
    assert.equal(store.calls.get('beginBackup'), begins, 'no session opened');
    assert.equal(plainStore.calls.get('beginBackup'), undefined);
  });

  it('refuses a manifest whose content HMAC does not match, before writing anything', async () => {
    const good = store.manifests.get(backupId)!;
    const { checksum: _checksum, ...body } = decodeManifest(good);
    store.manifests.set(backupId, encodeManifest({ ...body, contentHmac: 'f'.repeat(64) }));
    const target = join(dir, 'tampered');
    try {
      await assert.rejects(restore({ targetDir: target }), (err: unknown) => err instanceof CorruptDataError && /content HMAC does not match/.test(err.message));
      store.manifests.set(backupId, encodeManifest({ ...body, contentHmac: null }));
      await assert.rejects(restore({ targetDir: target }), /has no content HMAC/);
      assert.ok(!existsSync(target));
    } finally {
      store.manifests.set(backupId, good);
    }
  });

  it('leaves no image behind when a blob cannot be decrypted mid-restore', async () => {
    // A chunk of the second disk only, sealed under another key but stored under its digest.
    const codec = new ChunkCodec(keys);
    const only = seededBytes(3, CHUNK);
    const digest = codec.digest(only);
    const hex = digestHex(digest);
    const good = store.blobs.get(hex)!;
    store.blobs.set(hex, new ChunkCodec(otherKeys).encode(only, digest));
    const target = join(dir, 'key-fails');
    try {
      await assert.rejects(restore({ targetDir: target }), BlobKeyError);
      assert.deepEqual(await readdir(target), [], 'no image and no partial file');
    } finally {
      store.blobs.set(hex, good);
    }
  });

  it('verifies with the key, writing nothing, and finds a damaged chunk', async () => {
    const target = join(dir, 'never-written');
    const verified = await restore({ verifyOnly: true, targetDir: target });
    assert.equal(verified.verifyOnly, true);
    assert.deepEqual(verified.disks, []);
    assert.equal(verified.targetDir, '');
    assert.equal(verified.bytesWritten, 0);
    assert.equal(verified.chunksFetched, 15, 'each distinct chunk checked once');
    assert.ok(!existsSync(target));

    const index = store.indexFiles.get(`${backupId}/root`)!;
    const digest = index.subarray(96 + 20 * DIGEST_BYTES, 96 + 21 * DIGEST_BYTES);
    assert.ok(!isZeroDigest(digest));
    const hex = digestHex(digest);
    const good = store.blobs.get(hex)!;
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    store.blobs.set(hex, bad);
    try {
      await assert.rejects(restore({ verifyOnly: true, targetDir: target }), (err: unknown) => err instanceof CorruptDataError && err.message.includes(hex));
      assert.ok(!existsSync(target));
    } finally {
      store.blobs.set(hex, good);
    }
  });

  it('fails a backup cleanly when a worker thread dies: session aborted, threads stopped', async () => {
    let pool: WorkerChunkProcessor | undefined;
    const aborts = store.calls.get('abortBackup') ?? 0;
    await assert.rejects(
      backup({
        open: (k, o) => (pool = new WorkerChunkProcessor(k, { ...o, threads: 2, workerUrl: new URL('../testing/crashing-chunk-worker.ts', import.meta.url) })),
      }),
      ChunkWorkerError,
    );
    assert.equal(store.calls.get('abortBackup'), aborts + 1);
    assert.equal(store.sessions.size, 0);
    assert.equal(pool?.liveThreads, 0);
    // The next attempt, with healthy threads, completes.
    const result = await backup();
    const target = join(dir, 'after-crash');
    await restore({ id: result.backup.backupId, targetDir: target });
    assert.ok((await readFile(join(target, 'root.img'))).equals(images.root!));
  });
});
