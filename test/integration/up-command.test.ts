/**
 * `bulwark up` as an operator runs it: one command starts everything, the CLI finds the
 * controller by itself, and SIGTERM stops every daemon. Bad options and config files are
 * refused with exit code 2 and a message naming the field.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../controller/cli/up/managed-process.js';
import { BackupResult, RestoreResult, VerifyResult } from '../../shared/messages/results.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { runJob } from '../helpers/embedded.js';
import { waitFor } from '../helpers/wait-for.js';

const execFileAsync = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bulwark up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-up-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses bad options and config files, naming the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ demoVms: [{ name: 'vm', disks: [{ name: 'd', sizeMib: 0 }] }] }));
    const res = await runCli(['up', '--config', bad, '--data-dir', join(dir, 'never')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /demoVms\.0\.disks\.0\.sizeMib/);
    writeFileSync(bad, JSON.stringify({ vms: [{ name: 'raw', disks: [{ name: 'd', path: '/tmp/x.img' }] }] }));
    const mixed = await runCli(['up', '--config', bad, '--data-dir', join(dir, 'never')]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /vms: raw image files need "demoHypervisor": "files"/);
    writeFileSync(bad, JSON.stringify({ natsPort: 1, surprise: true }));
    const extra = await runCli(['up', '--config', bad, '--data-dir', join(dir, 'never')]);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /surprise/);
    const opt = await runCli(['up', '--demo-disk-mib', 'lots', '--data-dir', join(dir, 'never')]);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /--demo-disk-mib/);
    assert.equal(existsSync(join(dir, 'never')), false, 'nothing was started or created');
  });

  it('starts everything, serves the CLI without flags, and stops on SIGTERM', async () => {
    const home = join(dir, 'home');
    const readyFile = join(dir, 'ready.json');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `${repoRoot}controller/cli/main.ts`, 'up', '--data-dir', home, '--demo-disk-mib', '8', '--ready-file', readyFile],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('bulwark up to be ready', () => (existsSync(readyFile) ? true : undefined), 120_000);
      const ready = JSON.parse(readFileSync(readyFile, 'utf8')) as { controller: string };
      assert.match(output, new RegExp(`controller\\s+${ready.controller.replace('.', '\\.')}`), 'prints where the controller listens');
      const env = { BULWARK_HOME: home, BULWARK_CONTROLLER: '' };

      const workers = await runCliJson<{ site: string; id: string; state: string }[]>(['workers'], env);
      assert.deepEqual(workers.filter((w) => w.state === 'online').map((w) => `${w.site}/${w.id}`).sort(), ['a/agent-1', 'a/storage', 'b/storage']);
      const vms = await runCliJson<{ name: string }[]>(['vms'], env);
      assert.deepEqual(vms.map((v) => v.name), ['demo-vm']);

      const backup = await runJob(BackupResult, ['backup', 'demo-vm'], env);
      await runJob(VerifyResult, ['verify'], env);
      const target = join(dir, 'restored');
      await runJob(RestoreResult, ['restore', backup.backup.backupId, '--to', target], env);
      // The demo VM runs on QEMU (qemu-storage-daemon): its disk is a live qcow2 image; -U reads it
      // while the daemon holds it. compare exits 0 only when the contents are identical.
      assert.equal(backup.backup.mode, 'full');
      await execFileAsync('qemu-img', ['compare', '-U', '-f', 'raw', '-F', 'qcow2', join(target, 'disk0.img'), join(home, 'vms', 'demo-vm', 'disk0.qcow2')]);

      const pids = ['controller', 'storage-a', 'storage-b', 'agent-1'].map(
        (name) => (JSON.parse(readFileSync(join(home, name, 'ready.json'), 'utf8')) as { pid: number }).pid,
      );
      pids.push(Number(readFileSync(join(home, 'vms', 'demo-vm', 'qsd.pid'), 'utf8').trim()));
      assert.ok(pids.every(alive));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.deepEqual(pids.filter(alive), [], 'every daemon stopped');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
