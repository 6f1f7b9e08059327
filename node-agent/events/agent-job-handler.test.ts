import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { JobMessage } from '../../shared/messages/jobs.js';
import type { JobContext } from '../../shared/nats/job-worker.js';
import { InlineChunkProcessor } from '../adapters/inline-chunk-processor.js';
import { rawFileTargets } from '../restore/raw-file-target.js';
import { MemoryBlockStore } from '../adapters/memory-block-store.js';
import { FilesDriver } from '../hypervisors/files/files-driver.js';
import type { SnapshotCreateOptions, SnapshotOutcome, VmSnapshots } from '../hypervisors/hypervisor.js';
import { seededBytes, writeDiskImage } from '../testing/disk-images.js';
import { createAgentJobHandler, createSharedJobFilter } from './agent-job-handler.js';

describe('agent job handler', () => {
  let dir: string;
  const clock = new ManualClock();
  const store = new MemoryBlockStore(clock, 'site-a');
  const opened: string[] = [];
  let closed = 0;
  const progress: [string, number, number][] = [];
  const ctx: JobContext = {
    log: silentLogger(),
    signal: new AbortController().signal,
    progress: (phase, done, total) => progress.push([phase, done, total]),
  };
  let handler: ReturnType<typeof createAgentJobHandler>;
  const storage = { site: 'site-a', address: '127.0.0.1:7000' };
  const createdAt = new Date(clock.nowMs()).toISOString();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-handler-'));
    await writeDiskImage(join(dir, 'd.raw'), 300_000, [{ offset: 70_000, data: seededBytes(1, 100_000) }]);
    const driver = new FilesDriver({ kind: 'files', vms: [{ name: 'vm1', disks: [{ name: 'd0', path: join(dir, 'd.raw') }] }] }, silentLogger());
    handler = createAgentJobHandler({
      driver,
      clock,
      keys: null,
      openProcessor: (k) => new InlineChunkProcessor(k),
      diskTargets: rawFileTargets,
      openBlockStore: (address) => {
        opened.push(address);
        return Object.assign(Object.create(store) as MemoryBlockStore, { close: () => void closed++ });
      },
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a backup and a restore on the job storage, closing it each time', async () => {
    const backup: JobMessage = { jobId: 'j1', attempt: 1, createdAt, kind: 'backup', params: { vm: 'vm1', mode: 'auto', storage } };
    const outcome = await handler(backup, ctx);
    assert.ok(outcome.kind === 'backup');
    assert.equal(outcome.result.backup.vm, 'vm1');
    assert.equal(progress.at(-1)?.[1], 300_000);
    const targetDir = join(dir, 'out');
    const restore: JobMessage = {
      jobId: 'j2',
      attempt: 1,
      createdAt,
      kind: 'restore',
      params: { backupId: outcome.result.backup.backupId, vm: 'vm1', targetDir, storage, verifyOnly: false, format: 'raw', start: false },
    };
    const restored = await handler(restore, ctx);
    assert.ok(restored.kind === 'restore');
    assert.ok((await readFile(join(targetDir, 'd0.img'))).equals(await readFile(join(dir, 'd.raw'))));
    assert.deepEqual(opened, [storage.address, storage.address]);
    assert.equal(closed, 2);
  });

  it('refuses storage jobs', async () => {
    const sync: JobMessage = { jobId: 'j3', attempt: 1, createdAt, kind: 'sync', params: { mode: 'pull', source: storage, concurrency: 2 } };
    await assert.rejects(handler(sync, ctx), PreconditionError);
  });

  it('closes the store when the job fails', async () => {
    const before = closed;
    const bad: JobMessage = { jobId: 'j4', attempt: 1, createdAt, kind: 'backup', params: { vm: 'nope', mode: 'auto', storage } };
    await assert.rejects(handler(bad, ctx), /VM nope not found/);
    assert.equal(closed, before + 1);
  });

  it('runs snapshot jobs on the driver\'s snapshots, naming an unnamed one after the job', async () => {
    const calls: unknown[][] = [];
    const outcome = (o: Partial<SnapshotOutcome>): SnapshotOutcome => ({
      created: null, removed: [], reverted: null, vmRunning: true, snapshots: [], incomplete: [], note: null, ...o,
    });
    const fake: VmSnapshots = {
      create: (vm: string, options: SnapshotCreateOptions) => {
        calls.push(['create', vm, options]);
        return Promise.resolve(outcome({ created: options.name ?? `bulwark-${options.id ?? 'new'}` }));
      },
      list: (vm: string) => (calls.push(['list', vm]), Promise.resolve(outcome({}))),
      remove: (vm: string, name: string) => (calls.push(['remove', vm, name]), Promise.resolve(outcome({ removed: [name] }))),
      revert: (vm: string, name: string) => (calls.push(['revert', vm, name]), Promise.resolve(outcome({ reverted: name, vmRunning: false }))),
    };
    const driver = Object.assign(
      new FilesDriver({ kind: 'files', vms: [{ name: 'vm1', disks: [{ name: 'd0', path: join(dir, 'd.raw') }] }] }, silentLogger()),
      { snapshots: fake },
    );
    const withSnapshots = createAgentJobHandler({
      driver,
      clock,
      keys: null,
      openProcessor: (k) => new InlineChunkProcessor(k),
      diskTargets: rawFileTargets,
      openBlockStore: () => {
        throw new Error('a snapshot job opens no storage');
      },
    });
    const jobId = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const snap = (params: Extract<JobMessage, { kind: 'snapshot' }>['params']): JobMessage => ({ jobId, attempt: 1, createdAt, kind: 'snapshot', params });
    const created = await withSnapshots(snap({ vm: 'vm1', op: 'create', keep: 2 }), ctx);
    assert.ok(created.kind === 'snapshot');
    assert.equal(created.result.created, `bulwark-${jobId}`);
    assert.equal(created.result.op, 'create');
    await withSnapshots(snap({ vm: 'vm1', op: 'create', name: 'mine' }), ctx);
    await withSnapshots(snap({ vm: 'vm1', op: 'list' }), ctx);
    await withSnapshots(snap({ vm: 'vm1', op: 'remove', name: 'mine' }), ctx);
    const reverted = await withSnapshots(snap({ vm: 'vm1', op: 'revert', name: 'mine' }), ctx);
    assert.ok(reverted.kind === 'snapshot' && reverted.result.reverted === 'mine' && !reverted.result.vmRunning);
    assert.deepEqual(calls, [
      ['create', 'vm1', { id: jobId, keep: 2 }],
      ['create', 'vm1', { name: 'mine' }],
      ['list', 'vm1'],
      ['remove', 'vm1', 'mine'],
      ['revert', 'vm1', 'mine'],
    ]);
  });

  it('refuses snapshot jobs when the driver has no snapshots', async () => {
    const job: JobMessage = { jobId: 'j5', attempt: 1, createdAt, kind: 'snapshot', params: { vm: 'vm1', op: 'list' } };
    await assert.rejects(handler(job, ctx), (err: unknown) => err instanceof PreconditionError && /files driver does not manage snapshots/.test(err.message));
  });
});

describe('shared job filter', () => {
  const createdAt = '2026-01-01T00:00:00.000Z';
  const job = (vm: string, kind: 'snapshot' | 'gc' = 'snapshot'): JobMessage =>
    kind === 'gc'
      ? { jobId: 'g', attempt: 1, createdAt, kind, params: { graceMs: 0, dryRun: true } }
      : { jobId: `s-${vm}`, attempt: 1, createdAt, kind, params: { vm, op: 'list' } };

  it('takes agent jobs of VMs the agent reports, looking at the inventory again for an unknown VM', async () => {
    let inventory = ['vm1'];
    let reads = 0;
    const canRun = createSharedJobFilter(() => {
      reads++;
      return Promise.resolve(inventory);
    });
    assert.equal(await canRun(job('vm1')), true);
    assert.equal(await canRun(job('vm1')), true);
    assert.equal(reads, 1, 'a known VM needs no new look');
    assert.equal(await canRun(job('vm2')), false);
    inventory = ['vm1', 'vm2'];
    assert.equal(await canRun(job('vm2')), true, 'a VM that appeared is found');
    assert.equal(await canRun(job('x', 'gc')), false, 'never a storage job');
  });
});
