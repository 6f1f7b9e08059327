import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sshd, generateKey } from '../../testing/sshd.js';
import type { GuestSshHook } from './consistency-config.js';
import { describeHookFailure, hookArgv, runHook } from './consistency-hooks.js';

/** True once `pid` is gone or a zombie (its parent was killed; init reaps it when it gets to it). */
async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /.test(stat)) return true;
    } catch {
      return true;
    }
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('consistency hooks on the agent host', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-hooks-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the argv without a shell and passes the environment', async () => {
    const out = join(dir, 'env');
    // `$BULWARK_VM` in an argument stays literal: no shell expands it.
    const outcome = await runHook(
      { where: 'host', command: ['/bin/sh', '-c', 'printf "%s %s %s" "$BULWARK_VM" "$BULWARK_HOOK" "$1" > "$2"', 'sh', '$BULWARK_VM', out], timeoutMs: 5000 },
      { BULWARK_VM: 'web1', BULWARK_HOOK: 'pre-snapshot' },
    );
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(outcome.exitCode, 0);
    assert.equal(await readFile(out, 'utf8'), 'web1 pre-snapshot $BULWARK_VM');
  });

  it('reports a non-zero exit with the tail of stderr', async () => {
    const outcome = await runHook({ where: 'host', command: ['/bin/sh', '-c', 'echo starting >&2; echo "database is locked" >&2; exit 3'], timeoutMs: 5000 }, {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.timedOut, false);
    assert.equal(outcome.stderrTail, 'starting database is locked');
    assert.equal(describeHookFailure(outcome, 5000), 'exit 3 (stderr: starting database is locked)');
  });

  it('keeps only the tail of a long stderr', async () => {
    const outcome = await runHook({ where: 'host', command: ['/bin/sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1'], timeoutMs: 5000 }, {});
    assert.equal(outcome.exitCode, 1);
    assert.ok(outcome.stderrTail.endsWith('line 1999'), outcome.stderrTail.slice(-40));
    assert.ok(outcome.stderrTail.length <= 4096);
    assert.ok(describeHookFailure(outcome, 5000).length < 300);
  });

  it('kills the whole process group at the timeout', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const started = performance.now();
    const outcome = await runHook(
      { where: 'host', command: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo waiting >&2; wait`], timeoutMs: 400 },
      {},
    );
    const elapsed = performance.now() - started;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.signal, 'SIGKILL');
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
    assert.equal(describeHookFailure(outcome, 400), 'timed out after 400 ms, killed (stderr: waiting)');
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    assert.ok(grandchild > 0);
    assert.equal(await waitGone(grandchild, 2000), true, `the hook's child ${grandchild} survived the timeout`);
  });

  it('does not wait for a background child that keeps stderr open after a successful exit', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const started = performance.now();
    const outcome = await runHook({ where: 'host', command: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; exit 0`], timeoutMs: 10_000 }, {});
    assert.equal(outcome.ok, true);
    assert.ok(performance.now() - started < 3000);
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
  });

  it('reports a program that cannot be started', async () => {
    const outcome = await runHook({ where: 'host', command: [join(dir, 'no-such-hook')], timeoutMs: 5000 }, {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.spawnError, 'ENOENT');
    assert.equal(describeHookFailure(outcome, 5000), 'could not start: ENOENT');
  });

  it('reports a hook killed by a signal', async () => {
    const outcome = await runHook({ where: 'host', command: ['/bin/sh', '-c', 'kill -TERM $$'], timeoutMs: 5000 }, {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.signal, 'SIGTERM');
    assert.equal(describeHookFailure(outcome, 5000), 'killed by SIGTERM');
  });
});

describe('consistency hooks over ssh against a real sshd on 127.0.0.1', () => {
  let dir: string;
  let sshd: Sshd;
  let hook: (command: string, extra?: Partial<GuestSshHook>) => GuestSshHook;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-ssh-hooks-'));
    sshd = await Sshd.start({ dir });
    hook = (command, extra = {}) => ({
      where: 'guest-ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.identityFile,
      knownHostsFile: sshd.knownHostsFile,
      command,
      timeoutMs: 10_000,
      ...extra,
    });
  });
  after(async () => {
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a batch-mode, strict-host-key ssh argv that ends option parsing before the host', () => {
    const argv = hookArgv(hook('sync', { hostKeyAlias: 'guestvm' }));
    assert.equal(argv[0], 'ssh');
    for (const option of ['BatchMode=yes', 'StrictHostKeyChecking=yes', `UserKnownHostsFile=${sshd.knownHostsFile}`, 'HostKeyAlias=guestvm']) {
      assert.ok(argv.includes(option), option);
    }
    assert.deepEqual(argv.slice(-3), ['--', '127.0.0.1', 'sync']);
  });

  it('runs the command through the remote shell (it writes a file)', async () => {
    const target = join(dir, 'written-over-ssh');
    const outcome = await runHook(hook(`echo "hello from $(whoami)" > ${target} && sync`), {});
    assert.equal(outcome.ok, true, `${JSON.stringify(outcome)}\n${sshd.log}`);
    assert.equal(await readFile(target, 'utf8'), `hello from ${sshd.user}\n`);
  });

  it('reports the remote exit code and stderr', async () => {
    const outcome = await runHook(hook('echo "fsync failed" >&2; exit 7'), {});
    assert.equal(outcome.ok, false);
    assert.equal(outcome.exitCode, 7);
    assert.equal(describeHookFailure(outcome, 10_000), 'exit 7 (stderr: fsync failed)');
  });

  it('kills ssh at the timeout', async () => {
    const started = performance.now();
    const outcome = await runHook(hook('sleep 30', { timeoutMs: 1500 }), {});
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.ok, false);
    assert.ok(performance.now() - started < 5000);
  });

  it('fails closed on a host key mismatch, and on a host missing from known_hosts', async () => {
    const otherKey = join(dir, 'other_host_key');
    await generateKey(otherKey);
    const wrongKnownHosts = join(dir, 'known_hosts.wrong');
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${(await readFile(`${otherKey}.pub`, 'utf8')).trim()}\n`);
    const marker = join(dir, 'must-not-exist');
    const mismatch = await runHook(hook(`touch ${marker}`, { knownHostsFile: wrongKnownHosts }), {});
    assert.equal(mismatch.ok, false);
    assert.equal(mismatch.exitCode, 255);
    assert.match(mismatch.stderrTail, /host key/i);

    const emptyKnownHosts = join(dir, 'known_hosts.empty');
    await writeFile(emptyKnownHosts, '');
    const unknown = await runHook(hook(`touch ${marker}`, { knownHostsFile: emptyKnownHosts }), {});
    assert.equal(unknown.exitCode, 255);
    assert.match(unknown.stderrTail, /Host key verification failed/);
    await assert.rejects(readFile(marker), { code: 'ENOENT' });
    // And nothing was appended to the known_hosts file (no trust on first use).
    assert.equal(await readFile(emptyKnownHosts, 'utf8'), '');
  });

  it('fails on a key the server does not accept (batch mode: no password prompt)', async () => {
    const stranger = join(dir, 'stranger_key');
    await generateKey(stranger);
    const outcome = await runHook(hook('true', { identityFile: stranger }), {});
    assert.equal(outcome.exitCode, 255);
    assert.match(outcome.stderrTail, /Permission denied/);
  });
});
