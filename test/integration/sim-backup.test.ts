/**
 * The `sim` driver through the real backup path: the agent's backup and restore jobs over
 * GrpcBlockStore into a real BlockStore service and datastore (storage/testing/test-storage.ts)
 * on 127.0.0.1. A full, then an incremental that reads only the changed blocks, each restored byte
 * for byte and equal to what the sim's model says the disk holds at that generation.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GrpcBlockStore } from '../../node-agent/adapters/grpc-block-store.js';
import { InlineChunkProcessor } from '../../node-agent/adapters/inline-chunk-processor.js';
import { runBackup } from '../../node-agent/backup/backup-job.js';
import { SimHypervisor } from '../../node-agent/hypervisors/sim/sim-config.js';
import { SimDriver } from '../../node-agent/hypervisors/sim/sim-driver.js';
import { runRestore } from '../../node-agent/restore/restore-job.js';
import { systemClock } from '../../shared/clock.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import { startTestStorage, type TestStorage } from '../../storage/testing/test-storage.js';

const CHUNK = 64 * 1024;
const log = silentLogger();

describe('sim driver through the real backup path (gRPC storage)', () => {
  let dir: string;
  let server: TestStorage;
  let store: GrpcBlockStore;
  const driver = new SimDriver(SimHypervisor.parse({ kind: 'sim', seed: 'it', vmCount: 2, diskSizeBytes: 128 * CHUNK, changeFraction: 0.05 }), systemClock);
  const vm = 'sim-vm-00001';
  const deps = () => ({ driver, store, log, clock: systemClock, keys: null, openProcessor: () => new InlineChunkProcessor(null), progress: () => undefined });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-sim-it-'));
    server = await startTestStorage(join(dir, 'datastore'), 'site-a', systemClock, CHUNK);
    store = new GrpcBlockStore(server.address, {});
  });
  after(async () => {
    store.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const backupAndRestore = async (jobId: string, generation: number) => {
    driver.bytesRead = 0;
    const result = await runBackup({ jobId, attempt: 1, vm, mode: 'auto' }, deps());
    const bytesRead = driver.bytesRead;
    const target = join(dir, jobId);
    await runRestore({ backupId: result.backup.backupId, vm, targetDir: target }, deps());
    const restored = await readFile(join(target, 'disk0.img'));
    assert.ok(restored.equals(driver.model.diskBytes(vm, 'disk0', generation)), `restored byte for byte as generation ${generation}`);
    return { bytesRead, manifest: decodeManifest(await store.getManifest(result.backup.backupId)) };
  };

  it('a full, then an incremental reading only the changed blocks, both restored as the sim says', async () => {
    const full = await backupAndRestore('job-full', 0);
    assert.equal(full.manifest.mode, 'full');
    assert.equal(full.bytesRead, 128 * CHUNK);
    const inc = await backupAndRestore('job-inc', 1);
    assert.equal(inc.manifest.mode, 'incremental');
    assert.equal(inc.manifest.changeTracking, 'dirty-bitmap');
    // 5% of 128 blocks rounds to 6.
    assert.equal(inc.bytesRead, 6 * CHUNK, 'only the changed blocks are read');
    assert.equal(driver.generationOfCheckpoint(inc.manifest.checkpoint ?? null), 1);
  });
});
