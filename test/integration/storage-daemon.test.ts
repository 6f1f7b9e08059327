import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait-for.js';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { ManagedProcess, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { newId } from '../../shared/ids.js';
import { Heartbeat, WorkerEvent } from '../../shared/messages/events.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import { EVENTS_STREAM, subjects } from '../../shared/messages/subjects.js';
import { ensureStreams } from '../../shared/nats/streams.js';
import { createBlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { chunkDisk, makeDiskImage } from '../../storage/testing/disk-fixture.js';
import { backupOverWire, restoreOverWire } from '../../storage/testing/test-storage.js';

const CHUNK = 64 * 1024;

function storageProcess(root: string, name: string, configFile: string): ManagedProcess {
  const readyFile = join(root, `${name}.ready`);
  const { command, args } = tsxCommand('storage/main.ts', ['--config', configFile, '--ready-file', readyFile]);
  return new ManagedProcess({ name, command, args, logFile: join(root, `${name}.log`), readyFile, readyTimeoutMs: 30_000 });
}

describe('storage daemon as a process', () => {
  let root: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bulwark-storage-proc-'));
    nats = await NatsServerProcess.start(join(root, 'nats'));
    nc = await connect({ servers: nats.url });
    await ensureStreams(await nc.jetstreamManager());
  });
  after(async () => {
    await nc.close();
    await nats.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('serves gRPC, beats, runs a verify job from NATS and records its result, and stops on SIGTERM', async () => {
    const configFile = join(root, 'storage-a.json');
    await writeFile(
      configFile,
      JSON.stringify({ site: 'site-a', datastoreDir: join(root, 'ds-a'), nats: { url: nats.url }, chunkSizeBytes: CHUNK, heartbeatIntervalMs: 200 }),
    );
    const proc = storageProcess(root, 'storage-a', configFile);
    const ready = JSON.parse(await proc.start()) as { address: string; site: string; worker: string; datastoreId: string };
    try {
      assert.equal(ready.site, 'site-a');
      assert.equal(ready.worker, 'storage');
      assert.match(ready.address, /^127\.0\.0\.1:\d+$/);

      const beats = nc.subscribe(subjects.heartbeat('site-a', 'storage'), { max: 1 });
      for await (const msg of beats) {
        const hb = Heartbeat.parse(msg.json());
        assert.equal(hb.kind, 'storage');
        assert.equal(hb.address, ready.address);
      }

      const client = createBlockStoreClient(ready.address);
      const image = makeDiskImage(1_000_000, 61);
      const { backup } = await backupOverWire(client, { vm: 'db', disk: 'data', sizeBytes: image.length, chunked: chunkDisk(image, CHUNK), jobId: 'j-proc' });

      const job: JobMessage = {
        jobId: newId(),
        attempt: 1,
        createdAt: new Date().toISOString(),
        kind: 'verify',
        params: { repair: false, peers: [], skipVerifiedWithinMs: 0, force: false },
      };
      await nc.jetstream().publish(subjects.jobs('site-a', 'storage'), JSON.stringify(job));

      const jsm = await nc.jetstreamManager();
      const subject = subjects.event('site-a', 'storage', 'job.succeeded');
      const event = await waitFor('job.succeeded', async () => {
        const msg = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }).catch(() => undefined);
        return msg ? WorkerEvent.parse(msg.json()) : undefined;
      });
      assert.equal(event.type, 'job.succeeded');
      assert.ok(event.type === 'job.succeeded' && event.outcome.kind === 'verify');
      if (event.type === 'job.succeeded' && event.outcome.kind === 'verify') {
        assert.equal(event.jobId, job.jobId);
        assert.equal(event.outcome.result.backupsChecked, 1);
        assert.equal(event.outcome.result.chunks.length, 0);
        assert.deepEqual(event.outcome.result.verifiedBackupIds, [backup.backupId]);
      }

      assert.ok((await restoreOverWire(client, backup.backupId, 'data')).equals(image));
      client.close();
    } finally {
      await proc.stop();
    }
    assert.equal(await proc.waitForExit(), 0);
  });

  it('exits with code 2 and names the field of a bad config', async () => {
    const configFile = join(root, 'bad.json');
    await writeFile(configFile, JSON.stringify({ site: 'site-a', datastoreDir: join(root, 'ds-bad'), nats: { url: nats.url }, chunkSizeBytes: 100_000 }));
    const proc = storageProcess(root, 'storage-bad', configFile);
    await assert.rejects(proc.start(), /before it was ready/);
    assert.equal(await proc.waitForExit(), 2);
    const output = await readFile(join(root, 'storage-bad.log'), 'utf8');
    assert.match(output, /chunkSizeBytes: must be a power of two/);
  });

  it('refuses to start, exit code 2, on a datastore created for another key fingerprint', async () => {
    const dir = join(root, 'ds-key');
    const first = join(root, 'key-a.json');
    await writeFile(first, JSON.stringify({ site: 'site-a', datastoreDir: dir, nats: { url: nats.url }, chunkSizeBytes: CHUNK, keyFingerprint: 'a'.repeat(32) }));
    const created = storageProcess(root, 'storage-key-a', first);
    const ready = JSON.parse(await created.start()) as { keyFingerprint: string | null };
    assert.equal(ready.keyFingerprint, 'a'.repeat(32));
    await created.stop();
    assert.equal(await created.waitForExit(), 0);

    const second = join(root, 'key-b.json');
    await writeFile(second, JSON.stringify({ site: 'site-a', datastoreDir: dir, nats: { url: nats.url }, chunkSizeBytes: CHUNK, keyFingerprint: 'b'.repeat(32) }));
    const refused = storageProcess(root, 'storage-key-b', second);
    await assert.rejects(refused.start(), /before it was ready/);
    assert.equal(await refused.waitForExit(), 2);
    assert.match(await readFile(join(root, 'storage-key-b.log'), 'utf8'), /keyFingerprint: is b{32} but datastore .* was created for key a{32}/);
  });
});
