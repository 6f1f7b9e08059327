import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { silentLogger } from '../../../shared/log.js';
import type { QemuHypervisorConfig } from '../../config.js';
import { GuestVm } from '../../testing/guest-vm.js';
import type { BackupDisk, BackupView } from '../hypervisor.js';
import { QemuConsistencyConfig } from './consistency-config.js';
import { QemuDriver } from './qemu-driver.js';
import { QemuStepError } from './qemu-driver-errors.js';
import { QgaClient } from './qga-client.js';
import { QmpClient } from './qmp-client.js';

const execFileAsync = promisify(execFile);
const log = silentLogger();
const MiB = 1024 * 1024;
const Nodes = z.array(z.object({ 'node-name': z.string(), 'dirty-bitmaps': z.array(z.object({ name: z.string().optional() })).optional() }));

/** Writes the view's disk into a sparse raw file (allocated extents only, as a full backup reads it). */
async function copyDisk(disk: BackupDisk, path: string): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.truncate(disk.sizeBytes);
    const extents = disk.allocatedExtents?.() ?? [{ offset: 0, length: disk.sizeBytes }];
    for await (const extent of extents) {
      for (let at = extent.offset; at < extent.offset + extent.length; at += MiB) {
        const length = Math.min(MiB, extent.offset + extent.length - at);
        await file.write(await disk.read(at, length), 0, length, at);
      }
    }
  } finally {
    await file.close();
  }
}

/** Runs an e2fsprogs tool on an image file; its exit code and output (a non-zero exit is data here). */
async function e2(tool: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(`/usr/sbin/${tool}`, args, { timeout: 20_000, encoding: 'utf8' });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const fields: Record<string, unknown> = typeof err === 'object' && err !== null ? { ...err } : {};
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    if (typeof fields['code'] !== 'number') throw err;
    return { code: fields['code'], out: text(fields['stdout']) + text(fields['stderr']) };
  }
}

async function features(image: string): Promise<string> {
  const { out } = await e2('dumpe2fs', ['-h', image]);
  const line = /^Filesystem features:\s*(.*)$/m.exec(out);
  assert.ok(line, out);
  return line[1] ?? '';
}

async function catFile(image: string, path: string): Promise<string> {
  return (await e2('debugfs', ['-R', `cat ${path}`, image])).out;
}

describe('qemu driver with the guest agent and an ssh hook, against a real guest under TCG', () => {
  let dir: string;
  let vm: GuestVm;
  let configOf: (consistency: unknown) => QemuHypervisorConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-cg-'));
    vm = await GuestVm.start({ dir, extraQmpSocket: true });
    await vm.waitForBoot(40_000);
    configOf = (consistency) => ({
      kind: 'qemu',
      workDir: join(dir, 'work'),
      vms: [{ name: 'guest', qmpSocket: vm.qmpSocketPath, definition: { cpus: 1, memoryMiB: 128 }, consistency: QemuConsistencyConfig.parse(consistency) }],
    });
  });

  after(async () => {
    await vm?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('application: the ssh pre hook and the qemu-ga freeze make a clean copy that holds an unsynced write', async () => {
    const driver = new QemuDriver(
      configOf({
        mode: 'application',
        guestAgent: { socket: vm.qgaSocketPath },
        preSnapshot: {
          where: 'guest-ssh',
          host: '127.0.0.1',
          port: vm.sshPort,
          user: 'root',
          identityFile: vm.image.privateKeyPath,
          knownHostsFile: vm.image.knownHostsPath,
          hostKeyAlias: 'guestvm',
          // Not synced: only the freeze's flush puts it on the disk before the instant.
          command: 'echo "written by the pre hook" > /root/pre-hook',
          timeoutMs: 20_000,
        },
      }),
      log,
    );
    let view: BackupView | undefined;
    try {
      view = await driver.openBackupView('guest');
      assert.equal(view.consistency.level, 'application');
      assert.match(view.consistency.note ?? '', /^qemu-ga froze 1 filesystem for \d+ ms; pre-snapshot hook ok$/);
      const disk = view.disks[0];
      assert.ok(disk);
      await copyDisk(disk, join(dir, 'app.raw'));
    } finally {
      await view?.finish(true);
    }
    const image = join(dir, 'app.raw');
    assert.doesNotMatch(await features(image), /needs_recovery/);
    const fsck = await e2('e2fsck', ['-f', '-n', image]);
    assert.equal(fsck.code, 0, fsck.out);
    assert.match(await catFile(image, '/root/pre-hook'), /written by the pre hook/);
    // The guest's own fsfreeze hook (10-app) ran before the freeze.
    assert.match(await catFile(image, '/var/lib/app/state'), /app quiesced/);

    // Thawed: the agent says so and the guest writes again.
    const qga = await QgaClient.connect(vm.qgaSocketPath, { timeoutMs: 5000 });
    try {
      assert.equal(await qga.fsfreezeStatus(), 'thawed');
    } finally {
      await qga.close();
    }
    await vm.ssh('echo after > /root/after && sync', { timeoutMs: 10_000 });
  });

  it('a transaction QEMU refuses while the guest is frozen: the guest is thawed all the same', async () => {
    const testSocket = vm.testQmpSocketPath;
    assert.ok(testSocket);
    const qmp = await QmpClient.connect(testSocket, { timeoutMs: 5000 });
    try {
      const nodes = await qmp.execute('query-named-block-nodes', { flat: true }, { returns: Nodes });
      const base = nodes.find((n) => n['node-name'] === vm.diskNodeName)?.['dirty-bitmaps']?.find((b) => b.name?.startsWith('bulwark-'))?.name;
      assert.ok(base, 'the first view left its checkpoint bitmap');
      // An export of the base bitmap makes it busy: the transaction's block-dirty-bitmap-disable fails.
      await qmp.execute('nbd-server-start', { addr: { type: 'unix', data: { path: join(dir, 'hold.sock') } } });
      await qmp.execute('block-export-add', { type: 'nbd', id: 'holder', 'node-name': vm.diskNodeName, name: 'holder', bitmaps: [{ node: vm.diskNodeName, name: base }] });
      const appStateBefore = await vm.ssh('cat /var/lib/app/state', { timeoutMs: 10_000 });
      const driver = new QemuDriver(configOf({ mode: 'application', guestAgent: { socket: vm.qgaSocketPath } }), log);
      await assert.rejects(driver.openBackupView('guest'), (err: unknown) => {
        assert.ok(err instanceof QemuStepError, String(err));
        assert.equal(err.step, 'transaction');
        return true;
      });
      const qga = await QgaClient.connect(vm.qgaSocketPath, { timeoutMs: 5000 });
      try {
        assert.equal(await qga.fsfreezeStatus(), 'thawed');
      } finally {
        await qga.close();
      }
      // The guest's 10-app hook rewrites the file on freeze and appends on thaw: both happened.
      const appState = await vm.ssh('cat /var/lib/app/state', { timeoutMs: 10_000 });
      assert.notEqual(appState, appStateBefore);
      assert.match(appState, /^app quiesced uptime=\S+\napp resumed uptime=\S+\n$/);
    } finally {
      await qmp.execute('block-export-del', { id: 'holder' }).catch(() => undefined);
      await qmp.execute('nbd-server-stop').catch(() => undefined);
      await qmp.close();
    }
  });

  it('crash: the same write without the freeze is not in the copy, and the journal needs recovery', async () => {
    await vm.ssh('echo "unsynced crash write" > /root/crash-write', { timeoutMs: 10_000 });
    const driver = new QemuDriver(configOf({ mode: 'crash' }), log);
    const view = await driver.openBackupView('guest');
    try {
      assert.deepEqual(view.consistency, { level: 'crash', note: null });
      const disk = view.disks[0];
      assert.ok(disk);
      await copyDisk(disk, join(dir, 'crash.raw'));
    } finally {
      await view.finish(true);
    }
    const image = join(dir, 'crash.raw');
    assert.match(await features(image), /needs_recovery/);
    assert.doesNotMatch(await catFile(image, '/root/crash-write'), /unsynced crash write/);
  });
});
