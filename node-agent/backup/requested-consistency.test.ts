import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { decodeManifest } from '../../shared/format/manifest.js';
import { silentLogger } from '../../shared/log.js';
import type { RequestedConsistency } from '../../shared/messages/jobs.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import type { BackupView, ConfiguredConsistency, HypervisorDriver } from '../hypervisors/hypervisor.js';
import { QemuDriver } from '../hypervisors/qemu/qemu-driver.js';
import { runRestore } from '../restore/restore-job.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { runBackup, type BackupJobDeps } from './backup-job.js';
import { ConsistencyUnavailableError, planConsistency, recordedConsistency } from './requested-consistency.js';

const log = silentLogger();
const app = (onFailure: RequestedConsistency['onFailure']): RequestedConsistency => ({ mode: 'application', onFailure });

const qemu = new QemuDriver(
  {
    kind: 'qemu',
    workDir: '/var/lib/bulwark',
    vms: [
      { name: 'plain', qmpSocket: '/run/plain.qmp', definition: { cpus: 1, memoryMiB: 64 } },
      {
        name: 'quiesced',
        qmpSocket: '/run/q.qmp',
        definition: { cpus: 1, memoryMiB: 64 },
        consistency: { mode: 'application', guestAgent: { socket: '/run/q.qga', timeoutMs: 1000 }, onFailure: 'abort', freezeTimeoutMs: 1000 },
      },
    ],
  },
  log,
);

describe('planConsistency', () => {
  it('leaves the VM config in charge when the policy asks nothing or crash', () => {
    assert.deepEqual(planConsistency('plain', undefined, qemu), { kind: 'as-configured' });
    assert.deepEqual(planConsistency('plain', { mode: 'crash', onFailure: 'abort' }, qemu), { kind: 'as-configured' });
    assert.deepEqual(planConsistency('quiesced', { mode: 'crash', onFailure: 'abort' }, qemu), { kind: 'as-configured' });
  });

  it('uses a VM configured for application consistency as it is', () => {
    assert.deepEqual(qemu.configuredConsistency('quiesced'), { mode: 'application', field: 'hypervisor.vms.1.consistency' });
    assert.deepEqual(planConsistency('quiesced', app('abort'), qemu), { kind: 'as-configured' });
  });

  it('abort: fails naming the agent config field to set (qemu VM in crash mode)', () => {
    assert.throws(
      () => planConsistency('plain', app('abort'), qemu),
      (err: unknown) =>
        err instanceof ConsistencyUnavailableError &&
        err.code === 'FAILED_PRECONDITION' &&
        /VM plain: the policy asks for application consistency but its agent config quiesces nothing: set hypervisor\.vms\.0\.consistency\.mode to "application"/.test(err.message) &&
        /or set the policy's consistency to crash, or its onFailure to continue/.test(err.message),
    );
  });

  it('abort: a driver that cannot quiesce says so', () => {
    const files = new FilesDriver({ kind: 'files', vms: [] }, log);
    assert.throws(() => planConsistency('vm1', app('abort'), files), /the files hypervisor cannot quiesce a guest/);
  });

  it('continue: crash-consistent with a note saying what was asked and why it was not given', () => {
    const plan = planConsistency('plain', app('continue'), qemu);
    assert.equal(plan.kind, 'crash-instead');
    const recorded = recordedConsistency(plan, { level: 'crash', note: null });
    assert.equal(recorded.level, 'crash');
    assert.match(recorded.note ?? '', /^the policy asked for application consistency, not given: its agent config quiesces nothing: set hypervisor\.vms\.0\.consistency\.mode/);
    assert.match(recorded.note ?? '', /policy onFailure: continue/);
  });
});

describe('runBackup with a policy consistency request (files driver, in-memory store)', () => {
  let dir: string;
  let image: Buffer;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a', 64 * 1024);
  let opened = 0;
  let driver: HypervisorDriver;
  const deps = (): BackupJobDeps => ({ driver, store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-requested-consistency-'));
    const path = join(dir, 'root.raw');
    await writeDiskImage(path, 4 * 64 * 1024, [{ offset: 0, data: seededBytes(7, 3 * 64 * 1024) }]);
    image = await readFile(path);
    const files = new FilesDriver({ kind: 'files', vms: [{ name: 'vm1', disks: [{ name: 'root', path }] }] }, log);
    driver = {
      kind: files.kind,
      inventory: () => files.inventory(),
      openBackupView: async (vm: string): Promise<BackupView> => {
        opened++;
        return files.openBackupView(vm);
      },
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('abort fails before any view is opened', async () => {
    await assert.rejects(runBackup({ jobId: 'j-abort', attempt: 1, vm: 'vm1', mode: 'full', consistency: app('abort') }, deps()), ConsistencyUnavailableError);
    assert.equal(opened, 0);
    assert.equal(store.manifests.size, 0);
  });

  it('continue makes a crash-consistent backup whose manifest says why, and it restores byte for byte', async () => {
    const result = await runBackup({ jobId: 'j-continue', attempt: 1, vm: 'vm1', mode: 'full', consistency: app('continue') }, deps());
    assert.equal(opened, 1);
    const manifest = decodeManifest(store.manifests.get(result.backup.backupId) ?? Buffer.alloc(0));
    assert.equal(manifest.consistency?.level, 'crash');
    assert.match(manifest.consistency?.note ?? '', /^the policy asked for application consistency, not given: the files hypervisor cannot quiesce/);
    assert.match(manifest.consistency?.note ?? '', /image files read as they are/);
    const target = join(dir, 'restore');
    await runRestore({ backupId: result.backup.backupId, vm: 'vm1', targetDir: target }, { store, log, clock, keys: null, openProcessor: (k) => new InlineChunkProcessor(k), progress: () => undefined });
    assert.ok((await readFile(join(target, 'root.img'))).equals(image));
  });

  it('a driver configured for application consistency is used as it is', async () => {
    const configured: ConfiguredConsistency = { mode: 'application', field: 'hypervisor.vms.0.consistency' };
    const quiescing: HypervisorDriver = {
      kind: 'files',
      inventory: () => driver.inventory(),
      configuredConsistency: () => configured,
      openBackupView: async (vm) => ({ ...(await driver.openBackupView(vm)), consistency: { level: 'application', note: 'guest frozen' } }),
    };
    const result = await runBackup({ jobId: 'j-app', attempt: 1, vm: 'vm1', mode: 'full', consistency: app('abort') }, { ...deps(), driver: quiescing });
    const manifest = decodeManifest(store.manifests.get(result.backup.backupId) ?? Buffer.alloc(0));
    assert.deepEqual(manifest.consistency, { level: 'application', note: 'guest frozen' });
  });
});
