import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { silentLogger } from '../../../shared/log.js';
import type { QemuHypervisorConfig } from '../../config.js';
import { QemuStorageDaemon, runQemuIo } from '../../testing/qemu-storage-daemon.js';
import { Sshd } from '../../testing/sshd.js';
import { QemuConsistencyConfig, type ConsistencyHook } from './consistency-config.js';
import { ConsistencyHookError, GuestFreezeError } from './consistency-errors.js';
import { takeConsistentInstant } from './consistency.js';
import { QemuStepError } from './qemu-driver-errors.js';
import { QemuDriver } from './qemu-driver.js';
import { QmpClient } from './qmp-client.js';

const log = silentLogger();
const KiB = 1024;
const MiB = 1024 * KiB;

/** A host hook running `script` in sh, which appends its name and env to the journal file. */
function journaling(journal: string, name: string, script = '', timeoutMs = 5000): ConsistencyHook {
  return {
    where: 'host',
    command: ['/bin/sh', '-c', `echo "${name} $BULWARK_VM $BULWARK_HOOK \${BULWARK_SNAPSHOT:-} \${BULWARK_CONSISTENCY:-}" >> "${journal}"; ${script}`],
    timeoutMs,
  };
}

function consistency(value: unknown): QemuConsistencyConfig {
  return QemuConsistencyConfig.parse(value);
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => l.trim());
}

describe('takeConsistentInstant: the order and the failure policy, with real host hooks', () => {
  let dir: string;
  let journal: string;
  let n = 0;
  const fix = (ok = true) => async () => {
    await appendFile(journal, 'transaction\n');
    if (!ok) throw new Error('transaction refused');
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-consistency-'));
  });
  beforeEach(() => {
    journal = join(dir, `journal-${n++}`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('mode crash: just the transaction', async () => {
    const result = await takeConsistentInstant({ vm: 'web1', config: consistency({}), log }, fix());
    assert.deepEqual(result, { level: 'crash', note: null });
    assert.deepEqual(await lines(journal), ['transaction']);
  });

  it('pre, transaction, post in that order; application-consistent', async () => {
    const config = consistency({ mode: 'application', preSnapshot: journaling(journal, 'pre'), postSnapshot: journaling(journal, 'post') });
    const result = await takeConsistentInstant({ vm: 'web1', config, log }, fix());
    assert.deepEqual(result, { level: 'application', note: 'pre-snapshot hook ok; post-snapshot hook ok' });
    assert.deepEqual(await lines(journal), ['pre web1 pre-snapshot', 'transaction', 'post web1 post-snapshot taken application']);
  });

  it("abort: a failed pre hook stops before the transaction, names the VM and step, and post still runs", async () => {
    const config = consistency({
      mode: 'application',
      preSnapshot: journaling(journal, 'pre', 'echo "cannot lock tables" >&2; exit 3'),
      postSnapshot: journaling(journal, 'post'),
    });
    await assert.rejects(takeConsistentInstant({ vm: 'web1', config, log }, fix()), (err: unknown) => {
      assert.ok(err instanceof ConsistencyHookError, String(err));
      assert.equal(err.vm, 'web1');
      assert.equal(err.step, 'pre-snapshot');
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.equal(err.reason, 'exit 3 (stderr: cannot lock tables)');
      assert.match(err.message, /^VM web1: pre-snapshot hook \(host\) failed: exit 3/);
      return true;
    });
    assert.deepEqual(await lines(journal), ['pre web1 pre-snapshot', 'post web1 post-snapshot failed crash']);
  });

  it('abort: a pre hook past its timeout is DEADLINE_EXCEEDED', async () => {
    const config = consistency({ mode: 'application', preSnapshot: journaling(journal, 'pre', 'sleep 30', 300) });
    const started = performance.now();
    await assert.rejects(takeConsistentInstant({ vm: 'web1', config, log }, fix()), (err: unknown) => {
      assert.ok(err instanceof ConsistencyHookError, String(err));
      assert.equal(err.code, 'DEADLINE_EXCEEDED');
      assert.match(err.reason, /^timed out after 300 ms, killed/);
      return true;
    });
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(await lines(journal), ['pre web1 pre-snapshot']);
  });

  it('continue: a failed pre hook gives a crash-consistent instant and says why', async () => {
    const config = consistency({
      mode: 'application',
      onFailure: 'continue',
      preSnapshot: journaling(journal, 'pre', 'echo "no lock" >&2; exit 3'),
      postSnapshot: journaling(journal, 'post'),
    });
    const result = await takeConsistentInstant({ vm: 'web1', config, log }, fix());
    assert.deepEqual(result, {
      level: 'crash',
      note: 'pre-snapshot hook failed: exit 3 (stderr: no lock); continued crash-consistent; post-snapshot hook ok',
    });
    assert.deepEqual(await lines(journal), ['pre web1 pre-snapshot', 'transaction', 'post web1 post-snapshot taken crash']);
  });

  it('a failed transaction: post still runs (told the snapshot failed) and the error is the transaction\'s', async () => {
    const config = consistency({ mode: 'application', preSnapshot: journaling(journal, 'pre'), postSnapshot: journaling(journal, 'post') });
    await assert.rejects(takeConsistentInstant({ vm: 'web1', config, log }, fix(false)), /transaction refused/);
    assert.deepEqual(await lines(journal), ['pre web1 pre-snapshot', 'transaction', 'post web1 post-snapshot failed crash']);
  });

  it('a failed post hook is reported but does not change the level', async () => {
    const config = consistency({ mode: 'application', preSnapshot: journaling(journal, 'pre'), postSnapshot: journaling(journal, 'post', 'exit 1') });
    const result = await takeConsistentInstant({ vm: 'web1', config, log }, fix());
    assert.deepEqual(result, { level: 'application', note: 'pre-snapshot hook ok; post-snapshot hook failed: exit 1' });
  });

  describe('guest agent unreachable', () => {
    let silent: Server;
    let silentSocket: string;
    before(async () => {
      // Accepts and never answers, as a chardev does while qemu-ga is not running in the guest.
      silentSocket = join(dir, 'silent-qga.sock');
      silent = createServer((connection) => connection.resume());
      await new Promise<void>((resolve) => silent.listen(silentSocket, resolve));
    });
    after(async () => {
      await new Promise((resolve) => silent.close(resolve));
    });

    it('abort: GuestFreezeError naming the VM, the step and the socket; pre and post ran, no transaction', async () => {
      const socket = join(dir, 'no-such-qga.sock');
      const config = consistency({
        mode: 'application',
        guestAgent: { socket, timeoutMs: 500 },
        preSnapshot: journaling(journal, 'pre'),
        postSnapshot: journaling(journal, 'post'),
      });
      await assert.rejects(takeConsistentInstant({ vm: 'db1', config, log }, fix()), (err: unknown) => {
        assert.ok(err instanceof GuestFreezeError, String(err));
        assert.equal(err.vm, 'db1');
        assert.equal(err.step, 'fs-freeze');
        assert.equal(err.socket, socket);
        assert.equal(err.code, 'UNAVAILABLE');
        assert.match(err.message, /^VM db1: guest agent fs-freeze via .*no-such-qga\.sock failed/);
        return true;
      });
      assert.deepEqual(await lines(journal), ['pre db1 pre-snapshot', 'post db1 post-snapshot failed crash']);
    });

    it('continue: an agent that never answers (deadline) gives crash-consistent with the reason', async () => {
      const config = consistency({ mode: 'application', onFailure: 'continue', guestAgent: { socket: silentSocket, timeoutMs: 400 } });
      const started = performance.now();
      const result = await takeConsistentInstant({ vm: 'db1', config, log }, fix());
      assert.ok(performance.now() - started < 3000);
      assert.equal(result.level, 'crash');
      assert.match(result.note ?? '', /^qemu-ga fs-freeze failed: QGA .*silent-qga\.sock: guest agent unavailable: .*; continued crash-consistent$/);
      assert.deepEqual(await lines(journal), ['transaction']);
    });
  });
});

/**
 * A stand-in qemu-ga on a unix socket (newline-delimited JSON, guest-sync-delimited answered after
 * a 0xFF), for the failures a real guest will not produce on demand: a freeze that hangs or freezes
 * nothing, a thaw that fails. Records the commands it got.
 */
async function fakeAgent(
  path: string,
  answer: (command: string) => { return: unknown } | { error: { class: string; desc: string } } | 'hang',
): Promise<{ server: Server; commands: string[] }> {
  const commands: string[] = [];
  const server = createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1').replaceAll('\xff', '');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const request = z.object({ execute: z.string(), arguments: z.object({ id: z.number() }).partial().optional() }).parse(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
        commands.push(request.execute);
        if (request.execute === 'guest-sync-delimited') {
          socket.write(`\xff${JSON.stringify({ return: request.arguments?.id })}\n`, 'latin1');
          continue;
        }
        const reply = answer(request.execute);
        if (reply !== 'hang') socket.write(`${JSON.stringify(reply)}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { server, commands };
}

describe('takeConsistentInstant: freeze and thaw failures (stand-in guest agent)', () => {
  let dir: string;
  let server: Server | undefined;
  const fix = () => Promise.resolve();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-consistency-qga-'));
  });
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise((resolve) => s.close(resolve));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a freeze that froze nothing aborts (after a thaw)', async () => {
    const socket = join(dir, 'zero.sock');
    const agent = await fakeAgent(socket, () => ({ return: 0 }));
    server = agent.server;
    const config = consistency({ mode: 'application', guestAgent: { socket, timeoutMs: 1000 } });
    await assert.rejects(takeConsistentInstant({ vm: 'db1', config, log }, fix), (err: unknown) => {
      assert.ok(err instanceof GuestFreezeError, String(err));
      assert.equal(err.reason, 'the guest agent froze no filesystem');
      return true;
    });
    assert.deepEqual(agent.commands.filter((c) => c !== 'guest-sync-delimited'), ['guest-fsfreeze-freeze', 'guest-fsfreeze-thaw']);
  });

  it('a freeze past freezeTimeoutMs: thawed before the transaction, then continued crash-consistent', async () => {
    const socket = join(dir, 'hang.sock');
    const agent = await fakeAgent(socket, (command) => (command === 'guest-fsfreeze-freeze' ? 'hang' : { return: 1 }));
    server = agent.server;
    const order: string[] = [];
    const config = consistency({ mode: 'application', onFailure: 'continue', guestAgent: { socket, timeoutMs: 1000 }, freezeTimeoutMs: 200 });
    const result = await takeConsistentInstant({ vm: 'db1', config, log }, () => {
      order.push(...agent.commands.filter((c) => c !== 'guest-sync-delimited'), 'transaction');
      return Promise.resolve();
    });
    assert.equal(result.level, 'crash');
    assert.match(result.note ?? '', /^qemu-ga fs-freeze failed: .*timed out after 200 ms; continued crash-consistent$/);
    assert.deepEqual(order, ['guest-fsfreeze-freeze', 'guest-fsfreeze-thaw', 'transaction']);
  });

  it('a thaw that fails twice is logged and reported in the note; the instant stays application-consistent', async () => {
    const socket = join(dir, 'nothaw.sock');
    const agent = await fakeAgent(socket, (command) =>
      command === 'guest-fsfreeze-thaw' ? { error: { class: 'GenericError', desc: 'failed to thaw /: Device or resource busy' } } : { return: 1 },
    );
    server = agent.server;
    const config = consistency({ mode: 'application', guestAgent: { socket, timeoutMs: 1000 } });
    const result = await takeConsistentInstant({ vm: 'db1', config, log }, fix);
    assert.equal(result.level, 'application');
    assert.match(result.note ?? '', /^qemu-ga froze 1 filesystem; qemu-ga thaw FAILED \(the guest may still be frozen\): .*Device or resource busy$/);
    assert.deepEqual(agent.commands.filter((c) => c !== 'guest-sync-delimited'), ['guest-fsfreeze-freeze', 'guest-fsfreeze-thaw', 'guest-fsfreeze-thaw']);
  });
});

const Nodes = z.array(
  z.object({
    'node-name': z.string(),
    'dirty-bitmaps': z.array(z.object({ name: z.string().optional(), recording: z.boolean(), count: z.number() })).optional(),
  }),
);
const Named = z.array(z.object({ id: z.string() }));
const Jobs = z.array(z.object({ device: z.string() }));

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

/** Our nodes, exports and jobs left in QEMU. */
async function oursIn(daemon: QemuStorageDaemon) {
  return withQmp(daemon, async (qmp) => {
    const nodes = (await qmp.execute('query-named-block-nodes', { flat: true }, { returns: Nodes })).map((n) => n['node-name']);
    const exports = (await qmp.execute('query-block-exports', undefined, { returns: Named })).map((e) => e.id);
    const jobs = (await qmp.execute('query-block-jobs', undefined, { returns: Jobs })).map((j) => j.device);
    return [...nodes, ...exports, ...jobs].filter((n) => n.startsWith('bulwark-'));
  });
}

describe('qemu driver with consistency hooks against qemu-storage-daemon', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;
  let journal: string;
  let n = 0;

  /** A host hook that writes `pattern` at `offset` into the live disk through the writable export (qemu-io), as the guest would. */
  const writer = (name: string, writes: readonly { offset: number; pattern: number }[], script = ''): ConsistencyHook => ({
    where: 'host',
    command: [
      '/bin/sh',
      '-c',
      `echo "${name} \${BULWARK_SNAPSHOT:-}" >> "${journal}" && qemu-io -f raw ${writes.map((w) => `-c "write -P 0x${w.pattern.toString(16)} ${w.offset} 64k"`).join(' ')} "$0" >/dev/null; ${script}`,
      daemon.nbdUri('disk0'),
    ],
    timeoutMs: 10_000,
  });

  const driverWith = (settings: unknown) => {
    const config: QemuHypervisorConfig = {
      kind: 'qemu',
      workDir: join(dir, 'work'),
      vms: [
        {
          name: 'vm',
          qmpSocket: daemon.qmpSocketPath,
          ...(daemon.nbdSocketPath === undefined ? {} : { nbdSocket: daemon.nbdSocketPath }),
          definition: { cpus: 1, memoryMiB: 256 },
          consistency: consistency(settings),
        },
      ],
    };
    return new QemuDriver(config, log);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-consistency-qsd-'));
    daemon = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'disk0', sizeBytes: 16 * MiB }], nbd: true });
  });
  beforeEach(() => {
    journal = join(dir, `journal-${n++}`);
  });
  after(async () => {
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the pre hook's write is in the view, the post hook's is not (same offset), and the manifest note says so", async () => {
    const driver = driverWith({
      mode: 'application',
      preSnapshot: writer('pre', [{ offset: 0, pattern: 0xa1 }]),
      postSnapshot: writer('post', [{ offset: 0, pattern: 0xb2 }, { offset: MiB, pattern: 0xb2 }]),
    });
    const view = await driver.openBackupView('vm');
    try {
      assert.deepEqual(view.consistency, { level: 'application', note: 'pre-snapshot hook ok; post-snapshot hook ok' });
      assert.deepEqual(await lines(journal), ['pre', 'post taken']);
      const disk = view.disks[0];
      assert.ok(disk);
      assert.ok((await disk.read(0, 64 * KiB)).equals(Buffer.alloc(64 * KiB, 0xa1)), 'the pre hook wrote before the instant');
      assert.ok((await disk.read(MiB, 64 * KiB)).equals(Buffer.alloc(64 * KiB, 0)), 'the post hook wrote after the instant');
    } finally {
      await view.finish(true);
    }
    // The live disk has the post hook's data: the view held the instant, not an older state.
    assert.equal(await readPattern(daemon, 0), 0xb2);
  });

  it('abort: a failed pre hook fails the view with a typed error and leaves QEMU as it was', async () => {
    const before = await bitmapsOf(daemon, 'disk0');
    assert.equal(before.length, 1, 'the base checkpoint of the first view');
    const driver = driverWith({ mode: 'application', preSnapshot: writer('pre', [], 'echo "app says no" >&2; exit 3'), postSnapshot: writer('post', []) });
    await assert.rejects(driver.openBackupView('vm'), (err: unknown) => {
      assert.ok(err instanceof ConsistencyHookError, String(err));
      assert.equal(err.vm, 'vm');
      assert.equal(err.reason, 'exit 3 (stderr: app says no)');
      return true;
    });
    assert.deepEqual(await lines(journal), ['pre', 'post failed']);
    assert.deepEqual(await oursIn(daemon), []);
    assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording]), before.map((b) => [b.name, true]));
    assert.deepEqual((await readdir(join(dir, 'work', 'vm'))).filter((f) => f.endsWith('.qcow2')), []);
  });

  it('continue: the view opens crash-consistent with the reason in its note', async () => {
    const driver = driverWith({ mode: 'application', onFailure: 'continue', preSnapshot: writer('pre', [], 'echo "app says no" >&2; exit 3') });
    const view = await driver.openBackupView('vm');
    assert.deepEqual(view.consistency, { level: 'crash', note: 'pre-snapshot hook failed: exit 3 (stderr: app says no); continued crash-consistent' });
    await view.finish(true);
  });

  it('a transaction that QEMU refuses: the post hook still runs, the view fails typed, the base bitmap keeps its changes', async () => {
    await daemon.writePattern('disk0', [{ offset: 4 * MiB, length: 64 * KiB, pattern: 0x44 }]);
    const before = await bitmapsOf(daemon, 'disk0');
    assert.equal(before.length, 1);
    const base = before[0]?.name ?? '';
    // An NBD export of the base bitmap makes it busy: the transaction's block-dirty-bitmap-disable fails.
    await withQmp(daemon, (qmp) =>
      qmp.execute('block-export-add', { type: 'nbd', id: 'holder', 'node-name': 'disk0', name: 'holder', bitmaps: [{ node: 'disk0', name: base }] }),
    );
    try {
      const driver = driverWith({ mode: 'application', preSnapshot: writer('pre', []), postSnapshot: writer('post', []) });
      await assert.rejects(driver.openBackupView('vm'), (err: unknown) => {
        assert.ok(err instanceof QemuStepError, String(err));
        assert.equal(err.step, 'transaction');
        assert.match(err.message, /in use/);
        return true;
      });
      assert.deepEqual(await lines(journal), ['pre', 'post failed']);
    } finally {
      await withQmp(daemon, (qmp) => qmp.execute('block-export-del', { id: 'holder' }));
    }
    assert.deepEqual(await oursIn(daemon), []);
    assert.deepEqual((await bitmapsOf(daemon, 'disk0')).map((b) => [b.name, b.recording, b.count]), before.map((b) => [b.name, true, b.count]));
    assert.ok((before[0]?.count ?? 0) >= 64 * KiB, 'the base had recorded the write');
  });

  it('a guest-ssh pre hook against a real sshd, and abort when it cannot log in', async () => {
    const sshDir = await mkdtemp(join(tmpdir(), 'bulwark-consistency-ssh-'));
    const sshd = await Sshd.start({ dir: sshDir });
    try {
      const sshHook = (command: string, knownHostsFile = sshd.knownHostsFile): ConsistencyHook => ({
        where: 'guest-ssh',
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        identityFile: sshd.identityFile,
        knownHostsFile,
        command,
        timeoutMs: 10_000,
      });
      const marker = join(sshDir, 'quiesced');
      const view = await driverWith({ mode: 'application', preSnapshot: sshHook(`echo flushed > ${marker}`) }).openBackupView('vm');
      assert.deepEqual(view.consistency, { level: 'application', note: 'pre-snapshot hook ok' });
      await view.finish(true);
      assert.equal(await readFile(marker, 'utf8'), 'flushed\n');

      await assert.rejects(driverWith({ mode: 'application', preSnapshot: sshHook('true', '/dev/null') }).openBackupView('vm'), (err: unknown) => {
        assert.ok(err instanceof ConsistencyHookError, String(err));
        assert.match(err.message, /^VM vm: pre-snapshot hook \(guest-ssh\) failed: exit 255 \(stderr: .*Host key verification failed/);
        return true;
      });
      assert.deepEqual(await oursIn(daemon), []);
    } finally {
      await sshd.stop();
      await rm(sshDir, { recursive: true, force: true });
    }
  });
});

/** The byte at `offset` of the live disk (qemu-io read through the writable export). */
async function readPattern(daemon: QemuStorageDaemon, offset: number): Promise<number> {
  const out = await runQemuIo(daemon.nbdUri('disk0'), [`read -v ${offset} 1`]);
  const match = /^[0-9a-f]+:\s+([0-9a-f]{2})/m.exec(out);
  assert.ok(match, out);
  return Number.parseInt(match[1] ?? '', 16);
}
