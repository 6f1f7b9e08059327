import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { NotFoundError } from '../../../shared/errors.js';
import { silentLogger, type Logger } from '../../../shared/log.js';
import type { QemuHypervisorConfig } from '../../config.js';
import { QemuStorageDaemon, createQcow2 } from '../../testing/qemu-storage-daemon.js';
import type { BackupDisk, DiskExtent } from '../hypervisor.js';
import { NbdClient } from './nbd-client.js';
import { QemuDriver } from './qemu-driver.js';
import { QemuStepError, QemuViewBusyError } from './qemu-driver-errors.js';
import { QmpClient } from './qmp-client.js';

const execFileAsync = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const DISK_BYTES = 64 * MiB;
const GRANULE = 64 * KiB;
const log = silentLogger();
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const Nodes = z.array(
  z.object({
    'node-name': z.string(),
    'dirty-bitmaps': z
      .array(z.object({ name: z.string().optional(), count: z.number(), recording: z.boolean(), persistent: z.boolean(), inconsistent: z.boolean().optional() }))
      .optional(),
  }),
);
const Named = z.array(z.object({ id: z.string() }));
const Jobs = z.array(z.object({ device: z.string() }));

/** Runs `fn` on a QMP connection of its own, closed before returning (QEMU serves one client). */
async function withQmp<T>(daemon: QemuStorageDaemon, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = await QmpClient.connect(daemon.qmpSocketPath, { timeoutMs: 5000 });
  try {
    return await fn(qmp);
  } finally {
    await qmp.close();
  }
}

async function bitmapsOf(daemon: QemuStorageDaemon, node: string) {
  return withQmp(daemon, async (qmp) => {
    const nodes = await qmp.execute('query-named-block-nodes', { flat: true }, { returns: Nodes });
    return (nodes.find((n) => n['node-name'] === node)?.['dirty-bitmaps'] ?? []).filter((b) => b.name !== undefined);
  });
}

/** Our nodes, exports and jobs left in QEMU (all should be gone after finish). */
async function oursIn(daemon: QemuStorageDaemon) {
  return withQmp(daemon, async (qmp) => {
    const nodes = (await qmp.execute('query-named-block-nodes', { flat: true }, { returns: Nodes })).map((n) => n['node-name']);
    const exports = (await qmp.execute('query-block-exports', undefined, { returns: Named })).map((e) => e.id);
    const jobs = (await qmp.execute('query-block-jobs', undefined, { returns: Jobs })).map((j) => j.device);
    return [...nodes, ...exports, ...jobs].filter((n) => n.startsWith('bulwark-') || n.startsWith('#'));
  });
}

async function collect(extents: AsyncIterable<DiskExtent> | undefined): Promise<DiskExtent[]> {
  assert.ok(extents, 'extents offered');
  const out: DiskExtent[] = [];
  for await (const e of extents) out.push({ offset: e.offset, length: e.length });
  return out;
}

/** Reads the whole disk in 1 MiB readInto calls, 8 in flight, as the backup pipeline does. */
async function readAll(disk: BackupDisk): Promise<Buffer> {
  assert.ok('readInto' in disk, 'readInto offered');
  const out = Buffer.alloc(disk.sizeBytes);
  let next = 0;
  const worker = async () => {
    for (let at = next; at < disk.sizeBytes; at = next) {
      next += MiB;
      const target = Buffer.alloc(Math.min(MiB, disk.sizeBytes - at), 0xee);
      await disk.readInto?.(target, at);
      target.copy(out, at);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  assert.fail(`${what}: first difference at byte ${at} (${actual[at]} != ${expected[at]})`);
}

/** The guest's disk as the test wrote it, and the writes go to the live disk through the writable export. */
class Guest {
  readonly model = Buffer.alloc(DISK_BYTES);
  constructor(private readonly live: NbdClient) {}

  static async connect(daemon: QemuStorageDaemon, node: string): Promise<Guest> {
    if (daemon.nbdSocketPath === undefined) throw new Error('daemon without NBD');
    return new Guest(await NbdClient.connect({ socketPath: daemon.nbdSocketPath }, node));
  }

  async write(offset: number, length: number, pattern: number): Promise<void> {
    const data = Buffer.alloc(length, pattern);
    await this.live.write(offset, data);
    data.copy(this.model, offset);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.live.read(offset, length);
  }

  close(): Promise<void> {
    return this.live.disconnect();
  }
}

function config(workDir: string, daemon: QemuStorageDaemon, nbd: boolean): QemuHypervisorConfig {
  return {
    kind: 'qemu',
    workDir,
    vms: [
      {
        name: 'vm',
        qmpSocket: daemon.qmpSocketPath,
        ...(nbd && daemon.nbdSocketPath !== undefined ? { nbdSocket: daemon.nbdSocketPath } : {}),
        definition: { cpus: 2, memoryMiB: 512, machine: 'q35' },
      },
    ],
  };
}

function granules(...offsets: number[]): DiskExtent[] {
  return offsets.map((offset) => ({ offset, length: GRANULE }));
}

async function qcow2Files(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.qcow2'));
}

describe('qemu driver against qemu-storage-daemon: one disk, views in a row', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;
  let guest: Guest;
  let driver: QemuDriver;
  let workDir: string;
  let first: string;
  let second: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemu-driver-'));
    workDir = join(dir, 'work');
    daemon = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }], nbd: true });
    guest = await Guest.connect(daemon, 'disk0');
    driver = new QemuDriver(config(workDir, daemon, true), log);
  });

  after(async () => {
    await guest?.close().catch(() => undefined);
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the VM and its disk, and refuses an unknown VM', async () => {
    assert.deepEqual(await driver.inventory(), [{ name: 'vm', hypervisor: 'qemu', disks: [{ name: 'disk0', sizeBytes: DISK_BYTES }] }]);
    assert.deepEqual(driver.definitionOf('vm'), { cpus: 2, memoryMiB: 512, machine: 'q35' });
    await assert.rejects(driver.openBackupView('nope'), NotFoundError);
  });

  it('first view: no base, allocated extents of what was written, byte-exact reads, one recording bitmap after', async () => {
    await daemon.writePattern('disk0', [
      { offset: 0, length: MiB, pattern: 0x11 },
      { offset: 10 * MiB + GRANULE, length: 2 * GRANULE, pattern: 0x22 },
      { offset: 40 * MiB, length: 4 * KiB, pattern: 0x33 },
    ]);
    guest.model.fill(0x11, 0, MiB);
    guest.model.fill(0x22, 10 * MiB + GRANULE, 10 * MiB + 3 * GRANULE);
    guest.model.fill(0x33, 40 * MiB, 40 * MiB + 4 * KiB);

    const view = await driver.openBackupView('vm');
    first = view.checkpoint ?? '';
    assert.match(first, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(view.baseCheckpoint, null);
    assert.equal(view.fullReason, 'no dirty bitmap yet');
    const [disk] = view.disks;
    assert.ok(disk);
    assert.equal(disk.name, 'disk0');
    assert.equal(disk.sizeBytes, DISK_BYTES);
    assert.equal(disk.changeTracking, 'hash');
    assert.equal('dirtyExtents' in disk, false);
    // qcow2 allocates whole 64 KiB clusters.
    assert.deepEqual(await collect(disk.allocatedExtents?.()), [
      { offset: 0, length: MiB },
      { offset: 10 * MiB + GRANULE, length: 2 * GRANULE },
      { offset: 40 * MiB, length: GRANULE },
    ]);
    assertSameBytes(await readAll(disk), guest.model, 'view of the first backup');
    assert.deepEqual(await disk.read(10 * MiB + GRANULE - 2, 4), Buffer.from([0, 0, 0x22, 0x22]));

    await view.finish(true);
    await view.finish(true);
    const bitmaps = await bitmapsOf(daemon, 'disk0');
    assert.deepEqual(bitmaps.map((b) => [b.name, b.recording, b.persistent]), [[`bulwark-${first}`, true, true]]);
    assert.deepEqual(await oursIn(daemon), []);
    assert.deepEqual(await qcow2Files(join(workDir, 'vm')), []);
  });

  it('second view: dirty extents since the first, and the view holds its instant while the guest writes', async () => {
    await guest.write(2 * MiB, GRANULE, 0x44);
    await guest.write(20 * MiB + 100, 10, 0x55);
    await guest.write(63 * MiB, 2 * GRANULE, 0x66);
    const snapshot = Buffer.from(guest.model);

    const view = await driver.openBackupView('vm');
    second = view.checkpoint ?? '';
    assert.equal(view.baseCheckpoint, first);
    assert.equal(view.fullReason, null);
    assert.notEqual(second, first);
    const [disk] = view.disks;
    assert.ok(disk);
    assert.equal(disk.changeTracking, 'dirty-bitmap');
    const written = granules(2 * MiB, 20 * MiB, 63 * MiB, 63 * MiB + GRANULE);
    const merged = [written[0], written[1], { offset: 63 * MiB, length: 2 * GRANULE }];
    assert.deepEqual(await collect(disk.dirtyExtents?.()), merged);

    // The guest goes on writing: the live disk changes, the view does not.
    await guest.write(0, GRANULE, 0x77);
    await guest.write(2 * MiB, GRANULE, 0x78);
    await guest.write(30 * MiB, GRANULE, 0x79);
    assert.deepEqual(await guest.read(0, 2), Buffer.from([0x77, 0x77]));
    assert.deepEqual(await guest.read(30 * MiB, 2), Buffer.from([0x79, 0x79]));
    assert.deepEqual(await disk.read(0, 2), Buffer.from([0x11, 0x11]));
    assert.deepEqual(await disk.read(2 * MiB, 2), Buffer.from([0x44, 0x44]));
    assert.deepEqual(await disk.read(30 * MiB, 2), Buffer.from([0, 0]));
    assertSameBytes(await readAll(disk), snapshot, 'point-in-time view');
    assert.deepEqual(await collect(disk.dirtyExtents?.()), merged, 'the frozen base does not see the new writes');

    await view.finish(true);
    const bitmaps = await bitmapsOf(daemon, 'disk0');
    assert.deepEqual(bitmaps.map((b) => [b.name, b.recording, b.count]), [[`bulwark-${second}`, true, 3 * GRANULE]]);
    assert.deepEqual(await oursIn(daemon), []);
  });

  it('failure keeps the base: its changes from before and during the failed view reach the next view', async () => {
    const view = await driver.openBackupView('vm');
    assert.equal(view.baseCheckpoint, second);
    const [disk] = view.disks;
    assert.ok(disk);
    // The writes made during the second view.
    assert.deepEqual(await collect(disk.dirtyExtents?.()), granules(0, 2 * MiB, 30 * MiB));
    await guest.write(50 * MiB, GRANULE, 0x88);
    await view.finish(false);

    const bitmaps = await bitmapsOf(daemon, 'disk0');
    assert.deepEqual(bitmaps.map((b) => [b.name, b.recording, b.count]), [[`bulwark-${second}`, true, 4 * GRANULE]]);
    assert.deepEqual(await oursIn(daemon), []);

    const next = await driver.openBackupView('vm');
    assert.equal(next.baseCheckpoint, second);
    assert.deepEqual(await collect(next.disks[0]?.dirtyExtents?.()), granules(0, 2 * MiB, 30 * MiB, 50 * MiB));
    assertSameBytes(await readAll(next.disks[0] as BackupDisk), guest.model, 'view after the failed one');
    await next.finish(true);
  });

  it('a failure half-way through opening undoes the overlay, the job and the new bitmap, and names the VM and disk', async () => {
    await guest.write(7 * MiB, GRANULE, 0x99);
    const before = await bitmapsOf(daemon, 'disk0');
    assert.equal(before.length, 1);
    // Someone holds the export name the view needs: block-export-add fails after the transaction.
    await withQmp(daemon, (qmp) => qmp.execute('block-export-add', { type: 'nbd', id: 'squatter', 'node-name': 'disk0', name: 'bulwark-disk0' }));
    await assert.rejects(driver.openBackupView('vm'), (err: unknown) => {
      assert.ok(err instanceof QemuStepError, String(err));
      assert.equal(err.step, 'export');
      assert.equal(err.disk, 'disk0');
      assert.match(err.message, /^VM vm disk disk0: export failed: .*bulwark-disk0/);
      return true;
    });
    assert.deepEqual(
      (await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording, b.count]),
      before.map((b) => [b.name, true, GRANULE]),
      'the base is recording again and kept its changes',
    );
    assert.deepEqual(await oursIn(daemon), []);
    assert.deepEqual(await qcow2Files(join(workDir, 'vm')), []);

    await withQmp(daemon, (qmp) => qmp.execute('block-export-del', { id: 'squatter' }));
    const view = await driver.openBackupView('vm');
    assert.equal(`bulwark-${view.baseCheckpoint ?? ''}`, before[0]?.name);
    assert.deepEqual(await collect(view.disks[0]?.dirtyExtents?.()), granules(7 * MiB));
    await view.finish(true);
  });
});

/** A logger that keeps the messages it was given, to check that a path was taken. */
function recordingLogger(): { log: Logger; messages: string[] } {
  const messages: string[] = [];
  const log: Logger = pino({ level: 'info' }, { write: (line: string) => void messages.push(String((JSON.parse(line) as { msg: unknown }).msg)) });
  return { log, messages };
}

describe('qemu driver: two disks in one view', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;
  let a: Guest;
  let b: Guest;
  let driver: QemuDriver;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemu-driver-2-'));
    daemon = await QemuStorageDaemon.start({
      dir,
      disks: [
        { nodeName: 'sys', sizeBytes: DISK_BYTES },
        { nodeName: 'data', sizeBytes: DISK_BYTES },
      ],
      nbd: true,
    });
    a = await Guest.connect(daemon, 'sys');
    b = await Guest.connect(daemon, 'data');
    driver = new QemuDriver(config(join(dir, 'work'), daemon, true), log);
  });

  after(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes both disks at one instant with one checkpoint, and shares its QMP connection with inventory', async () => {
    await a.write(0, GRANULE, 0x01);
    await b.write(MiB, GRANULE, 0x02);
    const firstView = await driver.openBackupView('vm');
    assert.deepEqual(firstView.disks.map((d) => d.name), ['data', 'sys']);
    await firstView.finish(true);

    await a.write(4 * MiB, GRANULE, 0x03);
    await b.write(8 * MiB, GRANULE, 0x04);
    const snapA = Buffer.from(a.model);
    const snapB = Buffer.from(b.model);
    const view = await driver.openBackupView('vm');
    assert.equal(view.baseCheckpoint, firstView.checkpoint);
    const data = view.disks.find((d) => d.name === 'data');
    const sys = view.disks.find((d) => d.name === 'sys');
    assert.ok(data && sys);
    await a.write(4 * MiB, GRANULE, 0x05);
    await b.write(8 * MiB, GRANULE, 0x06);
    await a.write(12 * MiB, GRANULE, 0x07);
    await b.write(12 * MiB, GRANULE, 0x08);
    assertSameBytes(await readAll(sys), snapA, 'sys at the instant');
    assertSameBytes(await readAll(data), snapB, 'data at the instant');
    assert.deepEqual(await collect(sys.dirtyExtents?.()), granules(4 * MiB));
    assert.deepEqual(await collect(data.dirtyExtents?.()), granules(8 * MiB));

    // The monitor has one client: inventory asks through the view's connection, a second view is refused.
    assert.deepEqual(await driver.inventory(), [
      { name: 'vm', hypervisor: 'qemu', disks: [{ name: 'data', sizeBytes: DISK_BYTES }, { name: 'sys', sizeBytes: DISK_BYTES }] },
    ]);
    await assert.rejects(driver.openBackupView('vm'), QemuViewBusyError);
    await view.finish(true);

    const checkpoint = view.checkpoint ?? '';
    for (const node of ['sys', 'data']) {
      const bitmaps = await bitmapsOf(daemon, node);
      assert.deepEqual(bitmaps.map((m) => [m.name, m.count]), [[`bulwark-${checkpoint}`, 2 * GRANULE]], node);
    }
    assert.deepEqual(await oursIn(daemon), []);
  });
});

/** Writes patterns into a qcow2 image that no process has open. */
async function writeOffline(image: string, writes: readonly [offset: number, length: number, pattern: number][]): Promise<void> {
  await execFileAsync('qemu-io', ['-f', 'qcow2', ...writes.flatMap(([o, l, p]) => ['-c', `write -P ${p} ${o} ${l}`]), image]);
}

/** An agent process that opens a view of `vm` and is then SIGKILLed: it leaves everything in QEMU. */
async function crashedAgent(hypervisor: QemuHypervisorConfig, whileOpen: () => Promise<void> = () => Promise.resolve()): Promise<string> {
  const code = [
    `const { QemuDriver } = await import(${JSON.stringify(new URL('./qemu-driver.ts', import.meta.url).href)});`,
    `const { silentLogger } = await import(${JSON.stringify(new URL('../../../shared/log.ts', import.meta.url).href)});`,
    `const view = await new QemuDriver(JSON.parse(process.env.BULWARK_TEST_CONFIG), silentLogger()).openBackupView('vm');`,
    `process.stdout.write('open ' + view.checkpoint + '\\n');`,
    `setInterval(() => undefined, 60_000);`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, BULWARK_TEST_CONFIG: JSON.stringify(hypervisor) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const checkpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent child did not open a view in time: ${err}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (\S+)\n/.exec(out);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (c) => {
        clearTimeout(timer);
        reject(new Error(`agent child exited (${c}) before opening a view: ${err}`));
      });
    });
    await whileOpen();
    return checkpoint;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('qemu driver: crashes', () => {
  let dir: string;
  let daemon: QemuStorageDaemon | undefined;
  let image: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qemu-driver-crash-'));
    image = join(dir, 'disk0.qcow2');
  });

  after(async () => {
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an agent that died with a view open: leftovers removed, its own NBD server restarted, bitmaps merged into the oldest', async () => {
    const work = join(dir, 'work-agent');
    await mkdir(work);
    daemon = await QemuStorageDaemon.start({ dir, name: 'agent', disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }], nbd: true });
    const guest = await Guest.connect(daemon, 'disk0');
    try {
      const withServer = config(work, daemon, true);
      const recorded = recordingLogger();
      const driver = new QemuDriver(withServer, recorded.log);
      const base = await driver.openBackupView('vm');
      await base.finish(true);
      await guest.write(MiB, GRANULE, 0x21);
      const dead = await crashedAgent(withServer, () => guest.write(5 * MiB, GRANULE, 0x22));
      const left = (await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording]).sort();
      assert.deepEqual(left, [
        [`bulwark-${base.checkpoint ?? ''}`, false],
        [`bulwark-${dead}`, true],
      ]);
      assert.notDeepEqual(await oursIn(daemon), [], 'the dead agent left its objects');
      assert.equal((await qcow2Files(join(work, 'vm'))).length, 1);

      const view = await driver.openBackupView('vm');
      assert.ok(recorded.messages.includes('removing what a crashed backup run left in QEMU'), recorded.messages.join('|'));
      assert.ok(recorded.messages.includes('merging the dirty bitmaps a crashed run left into the oldest'), recorded.messages.join('|'));
      assert.equal(view.baseCheckpoint, base.checkpoint, 'the oldest bitmap is the base');
      assert.deepEqual(await collect(view.disks[0]?.dirtyExtents?.()), granules(MiB, 5 * MiB));
      assertSameBytes(await readAll(view.disks[0] as BackupDisk), guest.model, 'view after the crash');
      await view.finish(true);
      assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => b.name), [`bulwark-${view.checkpoint ?? ''}`]);
      assert.deepEqual(await oursIn(daemon), []);
      assert.deepEqual(await qcow2Files(join(work, 'vm')), []);
    } finally {
      await guest.close().catch(() => undefined);
      await daemon.kill();
    }

    // The same with the driver's own NBD server (the VM runs none): the dead agent's server is restarted.
    daemon = await QemuStorageDaemon.start({ dir, name: 'own', disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }] });
    const own = config(join(dir, 'work-own'), daemon, false);
    const deadOwn = await crashedAgent(own);
    const recorded = recordingLogger();
    const view = await new QemuDriver(own, recorded.log).openBackupView('vm');
    assert.ok(recorded.messages.includes('restarting the NBD server a crashed run left behind'), recorded.messages.join('|'));
    // Its bitmap is the only one, so it is the base; the backup job reads everything anyway,
    // since no backup recorded that checkpoint.
    assert.equal(view.baseCheckpoint, deadOwn);
    assert.deepEqual(await collect(view.disks[0]?.dirtyExtents?.()), []);
    assert.deepEqual(await collect(view.disks[0]?.allocatedExtents?.()), []);
    await view.finish(true);
    assert.deepEqual(await oursIn(daemon), []);
    await daemon.kill();
  });

  it('QEMU killed: the bitmap is inconsistent, removed, and the view reads everything with the reason', async () => {
    await createQcow2(image, DISK_BYTES);
    await writeOffline(image, [[0, MiB, 0x31], [33 * MiB, GRANULE, 0x32]]);
    const expected = Buffer.alloc(DISK_BYTES);
    expected.fill(0x31, 0, MiB);
    expected.fill(0x32, 33 * MiB, 33 * MiB + GRANULE);
    const work = join(dir, 'work-kill');
    const start = async () => {
      daemon = await QemuStorageDaemon.start({ dir, name: 'kill', disks: [{ nodeName: 'disk0', imagePath: image }] });
      return new QemuDriver(config(work, daemon, false), log);
    };

    let driver = await start();
    const view = await driver.openBackupView('vm');
    assert.equal(view.fullReason, 'no dirty bitmap yet');
    assertSameBytes(await readAll(view.disks[0] as BackupDisk), expected, 'first view through our own NBD server');
    await view.finish(true);
    const bitmap = `bulwark-${view.checkpoint ?? ''}`;

    // A clean stop persists the bitmap; it comes back recording.
    await daemon?.stop();
    await start();
    assert.ok(daemon);
    assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording, b.inconsistent ?? false]), [[bitmap, true, false]]);

    // A kill leaves it marked in use: inconsistent after the restart.
    await daemon.kill();
    driver = await start();
    assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.inconsistent ?? false]), [[bitmap, true]]);

    const reopened = await driver.openBackupView('vm');
    assert.equal(reopened.baseCheckpoint, null);
    assert.equal(reopened.fullReason, `dirty bitmap ${bitmap} of disk disk0 is inconsistent (QEMU stopped uncleanly)`);
    const [disk] = reopened.disks;
    assert.ok(disk);
    assert.equal(disk.changeTracking, 'hash');
    assert.equal('dirtyExtents' in disk, false);
    assert.deepEqual(await collect(disk.allocatedExtents?.()), [{ offset: 0, length: MiB }, { offset: 33 * MiB, length: GRANULE }]);
    assertSameBytes(await readAll(disk), expected, 'view after the kill');
    await reopened.finish(true);
    assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording]), [[`bulwark-${reopened.checkpoint ?? ''}`, true]]);
    assert.deepEqual(await oursIn(daemon), []);
  });

  it('an unreachable VM is listed without disks, and opening it fails typed', async () => {
    const driver = new QemuDriver(
      { kind: 'qemu', workDir: join(dir, 'work-none'), vms: [{ name: 'gone', qmpSocket: join(dir, 'none.sock'), definition: { cpus: 1, memoryMiB: 64 } }] },
      log,
    );
    assert.deepEqual(await driver.inventory(), [{ name: 'gone', hypervisor: 'qemu', disks: [] }]);
    await assert.rejects(driver.openBackupView('gone'), (err: unknown) => err instanceof Error && err.name === 'QemuVmUnavailableError' && /VM gone/.test(err.message));
  });
});

