/**
 * The node agent as a real process: nats-server, the agent (files driver) and, for the data
 * path, a real storage daemon. Checks its inventory event and heartbeats, a bad config file
 * (exit 2, the field named), and backup, incremental, redelivery and restore jobs published
 * straight to its JetStream subject, each restored and compared byte for byte. With encryption:
 * a second agent holding a key and a storage whose datastore is encrypted under it (backup,
 * restore, verify with the key), and an agent whose passphrase is wrong (exit 2, the key named).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { ManagedProcess, tsxCommand } from '../../controller/cli/up/managed-process.js';
import { NatsServerProcess } from '../../controller/cli/up/nats-server-process.js';
import { generateKeyMaterial, keysFromMaterial } from '../../shared/crypto/datastore-keys.js';
import { sealKeyFile } from '../../shared/crypto/key-file.js';
import { newId } from '../../shared/ids.js';
import { Heartbeat, WorkerEvent, type JobResult } from '../../shared/messages/events.js';
import { JobMessage } from '../../shared/messages/jobs.js';
import { EVENTS_STREAM, subjects } from '../../shared/messages/subjects.js';
import { ensureStreams } from '../../shared/nats/streams.js';
import { waitFor } from '../helpers/wait-for.js';
import { patchDiskImage, seededBytes, writeDiskImage } from '../../node-agent/testing/disk-images.js';

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;
const SITE = 'site-a';
const AGENT = 'agent-1';

describe('node agent process', () => {
  let dir: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let agent: ManagedProcess;
  let storage: ManagedProcess | undefined;
  let storageAddress: string;
  const heartbeats: Heartbeat[] = [];
  const events: WorkerEvent[] = [];
  const rootSize = 8 * MIB + 12_345;
  const dataSize = 16 * MIB;

  const startDaemon = async (name: string, entry: string, config: unknown): Promise<{ process: ManagedProcess; ready: Record<string, unknown> }> => {
    const configFile = join(dir, `${name}.json`);
    await writeFile(configFile, JSON.stringify(config));
    const cmd = tsxCommand(entry, ['--config', configFile, '--ready-file', join(dir, `${name}.ready`)]);
    const process = new ManagedProcess({
      name,
      command: cmd.command,
      args: cmd.args,
      logFile: join(dir, `${name}.log`),
      readyFile: join(dir, `${name}.ready`),
    });
    const ready = JSON.parse(await process.start()) as Record<string, unknown>;
    return { process, ready };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-agent-it-'));
    nats = await NatsServerProcess.start(join(dir, 'nats'));
    nc = await connect({ servers: nats.url });
    await ensureStreams(await nc.jetstreamManager());
    const hbSub = nc.subscribe(subjects.heartbeat(SITE, AGENT));
    void (async () => {
      for await (const m of hbSub) heartbeats.push(Heartbeat.parse(m.json()));
    })();
    const evSub = nc.subscribe(`bulwark.events.${SITE}.${AGENT}.>`);
    void (async () => {
      for await (const m of evSub) events.push(WorkerEvent.parse(m.json()));
    })();

    await writeDiskImage(join(dir, 'root.raw'), rootSize, [
      { offset: 0, data: seededBytes(1, 2 * MIB) },
      { offset: 5 * MIB, data: seededBytes(2, 3 * MIB + 12_345) },
    ]);
    await writeDiskImage(join(dir, 'data.raw'), dataSize, [{ offset: 7 * MIB, data: seededBytes(3, 100_000) }]);
    ({ process: agent } = await startDaemon('agent', 'node-agent/main.ts', {
      site: SITE,
      worker: AGENT,
      nats: { url: nats.url },
      heartbeatIntervalMs: 200,
      hypervisor: {
        kind: 'files',
        vms: [
          {
            name: 'web1',
            disks: [
              { name: 'root', path: join(dir, 'root.raw') },
              { name: 'data', path: join(dir, 'data.raw') },
            ],
          },
          { name: 'empty', disks: [{ name: 'root', path: join(dir, 'not-there.raw') }] },
        ],
      },
    }));
  });

  after(async () => {
    await agent?.stop();
    await storage?.stop();
    await nc?.close();
    await nats?.stop();
    if (dir && process.env.BULWARK_TEST_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  });

  it('publishes its inventory at start and heartbeats', async () => {
    const jsm = await nc.jetstreamManager();
    const stored = await waitFor('the inventory event', async () =>
      jsm.streams
        .getMessage(EVENTS_STREAM, { last_by_subj: subjects.event(SITE, AGENT, 'inventory') })
        .then((m) => WorkerEvent.parse(m.json()))
        .catch(() => undefined), 10_000);
    assert.equal(stored.type, 'inventory');
    assert.ok(stored.type === 'inventory');
    assert.deepEqual(stored.vms, [
      { name: 'web1', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: rootSize }, { name: 'data', sizeBytes: dataSize }], tags: [] },
      { name: 'empty', hypervisor: 'files', disks: [{ name: 'root', sizeBytes: 0 }], tags: [] },
    ]);
    await waitFor('three heartbeats', () => Promise.resolve(heartbeats.length >= 3 ? true : undefined), 10_000);
    const hb = heartbeats[0]!;
    assert.equal(hb.kind, 'agent');
    assert.equal(hb.site, SITE);
    assert.equal(hb.worker, AGENT);
    assert.equal(hb.address, null);
    assert.equal(hb.runningJobs, 0);
  });

  it('exits with code 2 on a bad config file and names the field', async () => {
    const configFile = join(dir, 'bad.json');
    await writeFile(
      configFile,
      JSON.stringify({
        site: SITE,
        worker: 'agent-2',
        nats: { url: nats.url },
        hypervisor: { kind: 'files', vms: [{ name: 'web1', disks: [{ name: 'root', path: 'relative.raw' }] }] },
      }),
    );
    const cmd = tsxCommand('node-agent/main.ts', ['--config', configFile, '--ready-file', join(dir, 'bad.ready')]);
    const bad = new ManagedProcess({ name: 'bad-agent', command: cmd.command, args: cmd.args, logFile: join(dir, 'bad.log'), readyFile: join(dir, 'bad.ready') });
    await assert.rejects(bad.start(), /exited with code 2/);
    assert.equal(await bad.waitForExit(), 2);
    assert.match(await readFile(join(dir, 'bad.log'), 'utf8'), /hypervisor\.vms\.0\.disks\.0\.path: must be an absolute path/);
  });

  describe('with a real storage', () => {
    let js: ReturnType<NatsConnection['jetstream']>;

    const runJob = async (job: JobMessage): Promise<JobResult> => {
      const seen = events.length;
      await js.publish(subjects.jobs(SITE, AGENT), JSON.stringify(job), { msgID: newId() });
      const end = await waitFor(`job ${job.jobId} to end`, () =>
        Promise.resolve(
          events.slice(seen).find((e) => (e.type === 'job.succeeded' || e.type === 'job.failed') && e.jobId === job.jobId && e.attempt === job.attempt),
        ), 60_000);
      if (end.type !== 'job.succeeded') throw new Error(`job ${job.jobId} failed: ${JSON.stringify(end)}`);
      return end.outcome;
    };
    const storageRef = () => ({ site: SITE, address: storageAddress });
    const backupJob = (jobId: string, attempt = 1): JobMessage => ({
      jobId,
      attempt,
      createdAt: new Date().toISOString(),
      kind: 'backup',
      params: { vm: 'web1', mode: 'auto', storage: storageRef() },
    });
    const restoreAndCompare = async (backupId: string, expected: Record<string, Buffer>) => {
      const targetDir = join(dir, `restore-${backupId}`);
      const outcome = await runJob({
        jobId: newId(),
        attempt: 1,
        createdAt: new Date().toISOString(),
        kind: 'restore',
        params: { backupId, vm: 'web1', targetDir, storage: storageRef(), verifyOnly: false, format: 'raw', start: false },
      });
      assert.equal(outcome.kind, 'restore');
      for (const [name, bytes] of Object.entries(expected)) {
        const path = join(targetDir, `${name}.img`);
        assert.ok((await readFile(path)).equals(bytes), `${name} restored byte for byte`);
      }
      const st = await stat(join(targetDir, 'data.img'));
      assert.ok(st.blocks * 512 < dataSize / 4, 'the mostly-zero disk is restored sparse');
    };

    before(async () => {
      js = nc.jetstream();
      const started = await startDaemon('storage', 'storage/main.ts', {
        site: SITE,
        worker: 'storage',
        datastoreDir: join(dir, 'datastore'),
        nats: { url: nats.url },
        chunkSizeBytes: CHUNK,
      });
      storage = started.process;
      storageAddress = String(started.ready.address);
    });

    it('backs up (full, incremental, redelivered) and restores byte for byte', async () => {
      const original = { root: await readFile(join(dir, 'root.raw')), data: await readFile(join(dir, 'data.raw')) };
      const full = await runJob(backupJob('job-full'));
      assert.ok(full.kind === 'backup');
      assert.equal(full.result.backup.mode, 'full');
      assert.equal(full.result.backup.site, SITE);
      assert.equal(full.result.bytesRead, rootSize + dataSize);
      const rootChunks = Math.ceil(rootSize / CHUNK);
      assert.equal(full.result.chunksTotal, rootChunks + dataSize / CHUNK);
      // root: 2 MiB and 3 MiB+tail of random data; data: 100 kB spanning two chunks.
      assert.equal(full.result.chunksSent, 32 + 49 + 2);
      assert.equal(full.result.chunksZero, full.result.chunksTotal - full.result.chunksSent);

      await patchDiskImage(join(dir, 'root.raw'), [
        { offset: 100, data: seededBytes(10, 10) },
        { offset: 3 * MIB, data: seededBytes(11, 10) },
      ]);
      await patchDiskImage(join(dir, 'data.raw'), [{ offset: 12 * MIB, data: seededBytes(12, CHUNK) }]);
      const changed = { root: await readFile(join(dir, 'root.raw')), data: await readFile(join(dir, 'data.raw')) };
      const incr = await runJob(backupJob('job-incr'));
      assert.ok(incr.kind === 'backup');
      assert.equal(incr.result.backup.mode, 'incremental');
      assert.equal(incr.result.backup.parentBackupId, full.result.backup.backupId);
      assert.equal(incr.result.chunksSent, 3);

      // The same job attempt delivered again: reported, not repeated.
      const again = await runJob(backupJob('job-incr'));
      assert.ok(again.kind === 'backup');
      assert.equal(again.result.alreadyCommitted, true);
      assert.equal(again.result.backup.backupId, incr.result.backup.backupId);
      assert.equal(again.result.bytesRead, 0);

      await restoreAndCompare(full.result.backup.backupId, original);
      await restoreAndCompare(incr.result.backup.backupId, changed);
    });

    it('fails a backup of a VM whose image is missing, naming it', async () => {
      const job: JobMessage = {
        jobId: 'job-missing',
        attempt: 1,
        createdAt: new Date().toISOString(),
        kind: 'backup',
        params: { vm: 'empty', mode: 'auto', storage: storageRef() },
      };
      await js.publish(subjects.jobs(SITE, AGENT), JSON.stringify(job), { msgID: newId() });
      const end = await waitFor('the failure event', () =>
        Promise.resolve(events.find((e) => e.type === 'job.failed' && e.jobId === job.jobId)), 30_000);
      assert.ok(end.type === 'job.failed');
      assert.equal(end.error.code, 'NOT_FOUND');
      assert.match(end.error.message, /not-there\.raw/);
    });
  });

  describe('with encryption', () => {
    const material = generateKeyMaterial();
    const fingerprint = keysFromMaterial(material).fingerprint;
    const ENC_AGENT = 'agent-e';
    const encEvents: WorkerEvent[] = [];
    let encAgent: ManagedProcess | undefined;
    let encStorage: ManagedProcess | undefined;
    let encAddress: string;
    let agentConfig: Record<string, unknown>;

    const runEncJob = async (job: JobMessage): Promise<WorkerEvent> => {
      const seen = encEvents.length;
      await nc.jetstream().publish(subjects.jobs(SITE, ENC_AGENT), JSON.stringify(job), { msgID: newId() });
      return waitFor(`job ${job.jobId} to end`, () =>
        Promise.resolve(encEvents.slice(seen).find((e) => (e.type === 'job.succeeded' || e.type === 'job.failed') && e.jobId === job.jobId)), 60_000);
    };
    const job = (kind: 'backup' | 'restore', params: Record<string, unknown>): JobMessage =>
      JobMessage.parse({ jobId: newId(), attempt: 1, createdAt: new Date().toISOString(), kind, params: { ...params, storage: { site: SITE, address: encAddress } } });

    before(async () => {
      await writeFile(join(dir, 'key.json'), JSON.stringify(sealKeyFile(material, 'a long passphrase', new Date().toISOString(), 14)));
      await writeFile(join(dir, 'passphrase'), 'a long passphrase\n');
      await writeFile(join(dir, 'wrong-passphrase'), 'not the passphrase\n');
      const sub = nc.subscribe(`bulwark.events.${SITE}.${ENC_AGENT}.>`);
      void (async () => {
        for await (const m of sub) encEvents.push(WorkerEvent.parse(m.json()));
      })();
      ({ process: encStorage } = await startDaemon('storage-e', 'storage/main.ts', {
        site: SITE,
        worker: 'storage-e',
        datastoreDir: join(dir, 'datastore-e'),
        nats: { url: nats.url },
        chunkSizeBytes: CHUNK,
        keyFingerprint: fingerprint,
      }).then((started) => {
        encAddress = String(started.ready.address);
        return started;
      }));
      agentConfig = {
        site: SITE,
        worker: ENC_AGENT,
        nats: { url: nats.url },
        chunkWorkers: 2,
        encryption: { keyFile: join(dir, 'key.json'), passphraseFile: join(dir, 'passphrase') },
        hypervisor: { kind: 'files', vms: [{ name: 'web1', disks: [{ name: 'root', path: join(dir, 'root.raw') }, { name: 'data', path: join(dir, 'data.raw') }] }] },
      };
      ({ process: encAgent } = await startDaemon('agent-e', 'node-agent/main.ts', agentConfig));
    });

    after(async () => {
      await encAgent?.stop();
      await encStorage?.stop();
    });

    it('refuses to start with a wrong passphrase (exit 2), naming the key', async () => {
      const configFile = join(dir, 'wrong-pass.json');
      await writeFile(configFile, JSON.stringify({ ...agentConfig, worker: 'agent-w', encryption: { keyFile: join(dir, 'key.json'), passphraseFile: join(dir, 'wrong-passphrase') } }));
      const cmd = tsxCommand('node-agent/main.ts', ['--config', configFile, '--ready-file', join(dir, 'wrong-pass.ready')]);
      const bad = new ManagedProcess({ name: 'wrong-pass', command: cmd.command, args: cmd.args, logFile: join(dir, 'wrong-pass.log'), readyFile: join(dir, 'wrong-pass.ready') });
      await assert.rejects(bad.start(), /exited with code 2/);
      assert.equal(await bad.waitForExit(), 2);
      assert.match(await readFile(join(dir, 'wrong-pass.log'), 'utf8'), new RegExp(`encryption\\.passphraseFile: the passphrase does not open key ${fingerprint}`));
    });

    it('backs up into the encrypted datastore, restores byte for byte and verifies with the key', async () => {
      const original = { root: await readFile(join(dir, 'root.raw')), data: await readFile(join(dir, 'data.raw')) };
      const made = await runEncJob(job('backup', { vm: 'web1', mode: 'full' }));
      assert.ok(made.type === 'job.succeeded' && made.outcome.kind === 'backup', JSON.stringify(made));
      const backupId = made.outcome.result.backup.backupId;
      const targetDir = join(dir, 'restore-encrypted');
      const restored = await runEncJob(job('restore', { backupId, vm: 'web1', targetDir }));
      assert.ok(restored.type === 'job.succeeded', JSON.stringify(restored));
      for (const [name, bytes] of Object.entries(original)) assert.ok((await readFile(join(targetDir, `${name}.img`))).equals(bytes), `${name} byte for byte`);
      const verified = await runEncJob(job('restore', { backupId, vm: 'web1', targetDir: join(dir, 'not-written'), verifyOnly: true }));
      assert.ok(verified.type === 'job.succeeded' && verified.outcome.kind === 'restore' && verified.outcome.result.verifyOnly, JSON.stringify(verified));
      assert.equal(existsSync(join(dir, 'not-written')), false);

      // The plain agent, without the key, is refused by the encrypted datastore, naming both sides.
      const seen = events.length;
      const refused: JobMessage = { ...job('restore', { backupId, vm: 'web1', targetDir: join(dir, 'refused') }) };
      await nc.jetstream().publish(subjects.jobs(SITE, AGENT), JSON.stringify(refused), { msgID: newId() });
      const end = await waitFor('the refusal', () => Promise.resolve(events.slice(seen).find((e) => e.type === 'job.failed' && e.jobId === refused.jobId)), 30_000);
      assert.ok(end.type === 'job.failed');
      assert.equal(end.error.code, 'FAILED_PRECONDITION');
      assert.match(end.error.message, new RegExp(`encrypted with key ${fingerprint} and this agent has no key`));
      assert.equal(existsSync(join(dir, 'refused')), false);
    });
  });

  it('stops cleanly on SIGTERM', async () => {
    await agent.stop();
    assert.equal(await agent.waitForExit(), 0);
  });
});
