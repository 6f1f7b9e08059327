import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CancelledError } from '../../../shared/errors.js';
import { QemuStorageDaemon, createQcow2 } from '../../testing/qemu-storage-daemon.js';
import { QmpClient, type QmpEvent } from './qmp-client.js';
import {
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
} from './qmp-errors.js';

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;

const NamedBlockNodes = z.array(
  z.object({
    'node-name': z.string(),
    'dirty-bitmaps': z
      .array(z.object({ name: z.string(), count: z.number(), recording: z.boolean(), persistent: z.boolean() }))
      .optional(),
  }),
);

async function bitmapsOf(qmp: QmpClient, node: string) {
  const nodes = await qmp.execute('query-named-block-nodes', { flat: true }, { returns: NamedBlockNodes });
  const found = nodes.find((n) => n['node-name'] === node);
  assert.ok(found, `node ${node} listed`);
  return found['dirty-bitmaps'] ?? [];
}

describe('QmpClient against qemu-storage-daemon', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;
  let qmp: QmpClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qmp-test-'));
    daemon = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }], nbd: true });
    qmp = await QmpClient.connect(daemon.qmpSocketPath, { timeoutMs: 5000, commandTimeoutMs: 10_000 });
  });

  after(async () => {
    await qmp?.close();
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the greeting and runs query-version', async () => {
    assert.equal(qmp.greeting.version.qemu.major >= 7, true);
    const version = await qmp.execute(
      'query-version',
      undefined,
      { returns: z.object({ qemu: z.object({ major: z.number(), minor: z.number(), micro: z.number() }), package: z.string() }) },
    );
    assert.deepEqual(version.qemu, qmp.greeting.version.qemu);
    assert.equal(version.package, qmp.greeting.version.package);
  });

  it('adds a dirty bitmap that then records guest writes made through NBD', async () => {
    assert.deepEqual(await qmp.execute('block-dirty-bitmap-add', { node: 'disk0', name: 'bm0', persistent: true }), {});
    const fresh = await bitmapsOf(qmp, 'disk0');
    assert.deepEqual(fresh.map((b) => [b.name, b.count, b.recording, b.persistent]), [['bm0', 0, true, true]]);

    await daemon.writePattern('disk0', [
      { offset: 1 * MiB, length: 128 * 1024, pattern: 0x33 },
      { offset: 10 * MiB, length: 4096, pattern: 0x44 },
    ]);
    const after = await bitmapsOf(qmp, 'disk0');
    // 128 KiB plus one 64 KiB granule for the 4 KiB write.
    assert.equal(after.find((b) => b.name === 'bm0')?.count, 192 * 1024);
  });

  it('turns an error reply into QmpCommandError and stays usable', async () => {
    await assert.rejects(qmp.execute('block-dirty-bitmap-add', { node: 'missing0', name: 'x' }), (err) => {
      assert.ok(err instanceof QmpCommandError);
      assert.equal(err.errorClass, 'GenericError');
      assert.equal(err.command, 'block-dirty-bitmap-add');
      assert.match(err.desc, /missing0/);
      assert.equal(err.code, 'FAILED_PRECONDITION');
      return true;
    });
    await assert.rejects(qmp.execute('no-such-command'), (err) => err instanceof QmpCommandError && err.errorClass === 'CommandNotFound');
    const version = await qmp.execute('query-version');
    assert.ok(typeof version === 'object' && version !== null && 'qemu' in version);
  });

  it('rejects a reply of the wrong shape for that command only', async () => {
    await assert.rejects(qmp.execute('query-version', undefined, { returns: z.array(z.unknown()) }), QmpProtocolError);
    assert.equal(qmp.connected, true);
    await qmp.execute('query-version');
  });

  it('matches concurrent commands to their own replies', async () => {
    const calls = Array.from({ length: 24 }, (_, i) => {
      switch (i % 3) {
        case 0:
          return qmp.execute('query-version').then((v) => ({ i, v }));
        case 1:
          return qmp.execute('block-dirty-bitmap-add', { node: `nonode${i}`, name: 'x' }).then(
            (v) => ({ i, v }),
            (err: unknown) => ({ i, err }),
          );
        default:
          return qmp.execute('query-block-exports').then((v) => ({ i, v }));
      }
    });
    const results = await Promise.all(calls);
    for (const r of results) {
      if (r.i % 3 === 0) assert.ok('v' in r && typeof r.v === 'object' && r.v !== null && 'qemu' in r.v, `call ${r.i}`);
      if (r.i % 3 === 1) {
        assert.ok('err' in r && r.err instanceof QmpCommandError, `call ${r.i}`);
        // The desc names this call's own node: a reply given to the wrong caller would show.
        assert.match(r.err.desc, new RegExp(`'nonode${r.i}'`));
      }
      if (r.i % 3 === 2) assert.ok('v' in r && Array.isArray(r.v) && r.v.length === 1, `call ${r.i}`);
    }
  });

  it('catches the fleecing job events with waits armed before each command', async () => {
    const fleecePath = join(dir, 'fleece0.qcow2');
    await createQcow2(fleecePath, DISK_BYTES);
    const seen: QmpEvent[] = [];
    const unsubscribe = qmp.onEvent((e) => seen.push(e));
    try {
      await qmp.execute('block-dirty-bitmap-add', { node: 'disk0', name: 'fl-old', persistent: true });
      await qmp.execute('blockdev-add', {
        driver: 'qcow2',
        'node-name': 'fleece0',
        file: { driver: 'file', filename: fleecePath },
        backing: 'disk0',
      });

      const jobOf = (id: string, status: string) => (e: QmpEvent) => e.data['id'] === id && e.data['status'] === status;
      const running = qmp.waitForEvent('JOB_STATUS_CHANGE', jobOf('fleece-job', 'running'), { timeoutMs: 5000 });
      assert.deepEqual(
        await qmp.execute('transaction', {
          actions: [
            { type: 'block-dirty-bitmap-add', data: { node: 'disk0', name: 'fl-new', persistent: true } },
            { type: 'block-dirty-bitmap-disable', data: { node: 'disk0', name: 'fl-old' } },
            { type: 'blockdev-backup', data: { 'job-id': 'fleece-job', device: 'disk0', target: 'fleece0', sync: 'none' } },
          ],
        }),
        {},
      );
      await running;

      await qmp.execute('block-export-add', {
        type: 'nbd',
        id: 'exp-backup',
        'node-name': 'fleece0',
        name: 'backup-disk0',
        writable: false,
        'allocation-depth': true,
        bitmaps: [{ node: 'disk0', name: 'fl-old' }],
      });
      const exports = z.array(z.object({ id: z.string(), 'node-name': z.string() }));
      const listed = await qmp.execute('query-block-exports', undefined, { returns: exports });
      assert.deepEqual(listed.find((e) => e.id === 'exp-backup')?.['node-name'], 'fleece0');

      const deleted = qmp.waitForEvent('BLOCK_EXPORT_DELETED', (e) => e.data['id'] === 'exp-backup', { timeoutMs: 5000 });
      await qmp.execute('block-export-del', { id: 'exp-backup' });
      await deleted;

      const cancelled = qmp.waitForEvent('BLOCK_JOB_CANCELLED', (e) => e.data['device'] === 'fleece-job', { timeoutMs: 5000 });
      const gone = qmp.waitForEvent('JOB_STATUS_CHANGE', jobOf('fleece-job', 'null'), { timeoutMs: 5000 });
      await qmp.execute('block-job-cancel', { device: 'fleece-job' });
      const event = await cancelled;
      assert.equal(event.data['type'], 'backup');
      assert.ok(event.timestamp.seconds > 0);
      await gone;
      await qmp.execute('blockdev-del', { 'node-name': 'fleece0' });

      const statuses = seen
        .filter((e) => e.event === 'JOB_STATUS_CHANGE' && e.data['id'] === 'fleece-job')
        .map((e) => e.data['status']);
      assert.equal(statuses[0], 'created');
      assert.deepEqual(statuses.slice(-3), ['aborting', 'concluded', 'null']);
      assert.deepEqual(
        (await bitmapsOf(qmp, 'disk0')).map((b) => [b.name, b.recording]).sort(),
        [['bm0', true], ['fl-new', true], ['fl-old', false]],
      );
    } finally {
      unsubscribe();
    }
  });

  it('times out a command and an event wait, then drops the late reply and carries on', async () => {
    process.kill(daemon.pid, 'SIGSTOP');
    try {
      await assert.rejects(qmp.execute('query-version', undefined, { timeoutMs: 200 }), (err) => {
        assert.ok(err instanceof QmpTimeoutError);
        assert.deepEqual([err.kind, err.operation, err.timeoutMs], ['command', 'query-version', 200]);
        assert.match(err.message, /query-version.*200 ms/);
        return true;
      });
      // Still queued behind the stuck one: times out without ever being sent.
      await assert.rejects(qmp.execute('query-block-exports', undefined, { timeoutMs: 100 }), QmpTimeoutError);
      await assert.rejects(
        qmp.waitForEvent('SHUTDOWN', () => true, { timeoutMs: 100 }),
        (err) => err instanceof QmpTimeoutError && err.kind === 'event' && err.operation === 'SHUTDOWN',
      );
    } finally {
      process.kill(daemon.pid, 'SIGCONT');
    }
    const exports = await qmp.execute('query-block-exports');
    assert.ok(Array.isArray(exports));
  });

  it('rejects an aborted wait with CancelledError', async () => {
    const controller = new AbortController();
    const wait = qmp.waitForEvent('SHUTDOWN', () => true, { timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    await assert.rejects(wait, CancelledError);
    await assert.rejects(qmp.waitForEvent('SHUTDOWN', () => true, { timeoutMs: 5000, signal: controller.signal }), CancelledError);
  });

  it('fails to connect as a second client while the monitor is taken, and to a missing socket', async () => {
    await assert.rejects(QmpClient.connect(daemon.qmpSocketPath, { timeoutMs: 300 }), (err) => {
      assert.ok(err instanceof QmpTimeoutError);
      assert.equal(err.kind, 'connect');
      return true;
    });
    await assert.rejects(QmpClient.connect(join(dir, 'nothing.sock'), { timeoutMs: 1000 }), QmpConnectError);
  });

  it('closes cleanly: pending calls reject, closed resolves undefined, the monitor is free again', async () => {
    const wait = qmp.waitForEvent('SHUTDOWN', () => true, { timeoutMs: 5000 });
    await qmp.close();
    await assert.rejects(wait, (err) => err instanceof QmpDisconnectedError && err.reason === 'closed by client');
    assert.equal(await qmp.closed, undefined);
    await assert.rejects(qmp.execute('query-version'), QmpDisconnectedError);

    // Reconnect with several commands on the wire at once: replies still reach their callers.
    qmp = await QmpClient.connect(daemon.qmpSocketPath, { timeoutMs: 5000, maxInFlight: 4 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0 ? qmp.execute('query-version') : qmp.execute('block-dirty-bitmap-add', { node: `pipe${i}`, name: 'x' }),
      ),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) assert.ok(r.status === 'fulfilled' && typeof r.value === 'object' && r.value !== null && 'qemu' in r.value);
      else assert.ok(r.status === 'rejected' && r.reason instanceof QmpCommandError && r.reason.desc.includes(`'pipe${i}'`));
    });
  });
});

describe('QmpClient when qemu-storage-daemon is killed', () => {
  let dir: string;
  let daemon: QemuStorageDaemon;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qmp-kill-'));
    daemon = await QemuStorageDaemon.start({ dir, disks: [{ nodeName: 'disk0', sizeBytes: DISK_BYTES }] });
  });

  after(async () => {
    await daemon?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rejects every pending command and wait with QmpDisconnectedError', { timeout: 10_000 }, async () => {
    const qmp = await QmpClient.connect(daemon.qmpSocketPath, { timeoutMs: 5000, commandTimeoutMs: 60_000 });
    // Stopped first so the commands are certainly unanswered (one on the wire, two queued) at the kill.
    process.kill(daemon.pid, 'SIGSTOP');
    const wait = qmp.waitForEvent('BLOCK_JOB_CANCELLED', () => true, { timeoutMs: 60_000 });
    const commands = [qmp.execute('query-version'), qmp.execute('query-block-exports'), qmp.execute('query-version')];
    const outcomes = Promise.all([wait, ...commands].map((p) => assert.rejects(p, QmpDisconnectedError)));
    await daemon.kill();
    await outcomes;
    const reason = await qmp.closed;
    assert.ok(reason instanceof QmpDisconnectedError);
    assert.equal(qmp.connected, false);
    await assert.rejects(qmp.execute('query-version'), QmpDisconnectedError);
    await assert.rejects(qmp.waitForEvent('X', () => true, { timeoutMs: 60_000 }), QmpDisconnectedError);
    await qmp.close();
  });
});

describe('QmpClient framing against a scripted QMP peer', () => {
  let dir: string;
  let server: Server;
  let script: (peer: Socket) => void = () => undefined;
  const peers = new Set<Socket>();
  const greeting = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}\r\n';
  const event = (name: string, data: object) =>
    `${JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: name, data })}\r\n`;

  /** Calls `onCommand` for each command line the client sends. */
  const onCommands = (peer: Socket, onCommand: (cmd: { execute: string; id: number }) => void) => {
    let buffer = '';
    peer.setEncoding('utf8');
    peer.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const parsed = z.object({ execute: z.string(), id: z.number() }).parse(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
        onCommand(parsed);
      }
    });
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qmp-fake-'));
    server = createServer((peer) => {
      peers.add(peer);
      peer.on('close', () => peers.delete(peer));
      script(peer);
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'fake.sock'), resolve));
  });

  after(async () => {
    for (const peer of peers) peer.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('parses lines split across chunks and several messages in one chunk', async () => {
    script = (peer) => {
      // The greeting a few bytes at a time, each in its own write.
      const writeSlowly = (text: string, at = 0) => {
        if (at >= text.length) return;
        peer.write(text.slice(at, at + 7), () => writeSlowly(text, at + 7));
      };
      writeSlowly(greeting);
      onCommands(peer, (cmd) => {
        if (cmd.execute === 'qmp_capabilities') peer.write(`{"return": {}, "id": ${cmd.id}}\r\n`);
        // Event, reply and event in one chunk; then a reply split in the middle of its JSON.
        if (cmd.execute === 'first') {
          peer.write(event('A', { n: 1 }) + `{"return": {"who": "first"}, "id": ${cmd.id}}\r\n` + event('B', { n: 2 }));
        }
        if (cmd.execute === 'second') {
          const reply = `{"return": {"who": "second"}, "id": ${cmd.id}}\r\n`;
          peer.write(reply.slice(0, 10), () => peer.write(reply.slice(10)));
        }
      });
    };
    const qmp = await QmpClient.connect(join(dir, 'fake.sock'), { timeoutMs: 2000 });
    try {
      assert.equal(qmp.greeting.version.package, 'fake');
      const a = qmp.waitForEvent('A', () => true, { timeoutMs: 2000 });
      const b = qmp.waitForEvent('B', (e) => e.data['n'] === 2, { timeoutMs: 2000 });
      assert.deepEqual(await Promise.all([qmp.execute('first'), qmp.execute('second')]), [{ who: 'first' }, { who: 'second' }]);
      assert.deepEqual((await a).data, { n: 1 });
      assert.deepEqual((await b).timestamp, { seconds: 1, microseconds: 2 });
    } finally {
      await qmp.close();
    }
  });

  it('fails the connection on a malformed line and on a reply nobody asked for', async () => {
    for (const bad of ['{"return": {}, "id": ', '{"neither": 1}', '{"return": {}, "id": 999}']) {
      script = (peer) => {
        peer.write(greeting);
        onCommands(peer, (cmd) => {
          if (cmd.execute === 'qmp_capabilities') peer.write(`{"return": {}, "id": ${cmd.id}}\r\n`);
          else peer.write(`${bad}\r\n`);
        });
      };
      const qmp = await QmpClient.connect(join(dir, 'fake.sock'), { timeoutMs: 2000 });
      await assert.rejects(qmp.execute('anything'), (err) => {
        assert.ok(err instanceof QmpDisconnectedError, bad);
        assert.ok(err.cause instanceof QmpProtocolError, bad);
        return true;
      });
      assert.ok((await qmp.closed) instanceof QmpDisconnectedError);
      await qmp.close();
    }
  });

  it('rejects a peer whose first line is not a QMP greeting', async () => {
    script = (peer) => peer.write('{"hello": "world"}\r\n');
    await assert.rejects(QmpClient.connect(join(dir, 'fake.sock'), { timeoutMs: 2000 }), QmpProtocolError);
  });
});
