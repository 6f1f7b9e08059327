import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { GuestVm, ensureGuestImage } from '../../testing/guest-vm.js';
import { QgaClient } from './qga-client.js';
import { QgaCommandError, QgaTimeoutError, QgaUnavailableError } from './qga-errors.js';

interface AgentRequest {
  readonly execute: string;
  readonly arguments?: { readonly id?: number; readonly pid?: number };
}

/** A scripted stand-in for qemu-ga on a unix socket: `answer` writes whatever it likes per request. */
async function fakeAgent(path: string, answer: (request: AgentRequest, socket: Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl).replaceAll('\xff', '');
        pending = pending.slice(nl + 1);
        if (line.trim() !== '') answer(JSON.parse(line) as AgentRequest, socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
}

const SENTINEL = '\xff';

describe('QgaClient protocol (scripted agent)', () => {
  let dir: string;
  let server: Server | undefined;
  const sockets: Socket[] = [];

  before(async () => {
    dir = await mkdtemp('/tmp/qga-');
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await closeServer(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('QgaUnavailableError within the deadline when nothing answers, after re-sending the sync', async () => {
    const path = join(dir, 'silent.sock');
    let sentinels = 0;
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 0xff) sentinels++;
      });
    });
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    const started = performance.now();
    await assert.rejects(QgaClient.connect(path, { timeoutMs: 1000, syncIntervalMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof QgaUnavailableError, String(err));
      assert.equal(err.code, 'UNAVAILABLE');
      assert.ok(err.waitedMs >= 1000, `waited ${err.waitedMs} ms`);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2000, `gave up after ${elapsed} ms`);
    assert.ok(sentinels >= 4, `sync sent ${sentinels} times`);
    await closeServer(server);
    server = undefined;
  });

  it('QgaUnavailableError when the socket does not exist', async () => {
    await assert.rejects(QgaClient.connect(join(dir, 'missing.sock'), { timeoutMs: 1000 }), (err: unknown) => {
      assert.ok(err instanceof QgaUnavailableError);
      assert.match(err.reason, /ENOENT/);
      return true;
    });
  });

  it('skips stale replies, a half object and foreign sync replies before its own sync reply', async () => {
    const path = join(dir, 'stale.sock');
    server = await fakeAgent(path, (request, socket) => {
      if (request.execute === 'guest-sync-delimited') {
        socket.write(`{"return": {}}\n{"error": {"class": "GenericError", "desc": "old"}}\n`, 'latin1');
        socket.write(`${SENTINEL}{"return": 424242}\n{"return": "half `, 'latin1');
        socket.write(`${SENTINEL}{"return": ${request.arguments?.id}}\n`, 'latin1');
      } else if (request.execute === 'guest-fsfreeze-status') {
        socket.write('{"return": "frozen"}\n', 'latin1');
      }
    });
    const client = await QgaClient.connect(path, { timeoutMs: 2000 });
    try {
      assert.equal(await client.fsfreezeStatus(), 'frozen');
    } finally {
      await client.close();
      await closeServer(server);
      server = undefined;
    }
  });

  it('after a command times out, syncs again and ignores the late reply', async () => {
    const path = join(dir, 'late.sock');
    let syncs = 0;
    let lateReply: (() => void) | undefined;
    server = await fakeAgent(path, (request, socket) => {
      if (request.execute === 'guest-sync-delimited') {
        syncs++;
        // The reply the client gave up on arrives before the new sync's reply, with no sentinel.
        lateReply?.();
        lateReply = undefined;
        socket.write(`${SENTINEL}{"return": ${request.arguments?.id}}\n`, 'latin1');
      } else if (request.execute === 'guest-fsfreeze-freeze') {
        lateReply = () => socket.write('{"return": 1}\n');
      } else if (request.execute === 'guest-fsfreeze-status') {
        socket.write('{"return": "thawed"}\n');
      }
    });
    const client = await QgaClient.connect(path, { timeoutMs: 2000 });
    try {
      await assert.rejects(client.fsfreezeFreeze({ timeoutMs: 200 }), (err: unknown) => {
        assert.ok(err instanceof QgaTimeoutError);
        assert.equal(err.kind, 'command');
        assert.equal(err.operation, 'guest-fsfreeze-freeze');
        return true;
      });
      assert.equal(await client.fsfreezeStatus(), 'thawed');
      assert.equal(syncs, 2);
    } finally {
      await client.close();
      await closeServer(server);
      server = undefined;
    }
  });
});

describe('QgaClient against qemu-ga 7.2 in a real guest (QEMU/TCG)', () => {
  const id = `qga-test-${process.pid}`;
  let dir: string;
  let vm: GuestVm | undefined;
  let client: QgaClient | undefined;
  let connecting: Promise<QgaClient> | undefined;

  before(async () => {
    await ensureGuestImage();
    dir = await mkdtemp('/tmp/gvt-');
    vm = await GuestVm.start({ dir, id });
  });

  after(async () => {
    await client?.close();
    await connecting?.then((c) => c.close()).catch(() => undefined);
    await vm?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('boots to the marker with its id while a client is already syncing', async () => {
    const guest = vm!;
    // Connected before qemu-ga runs: the syncs queue up in the channel and are answered in a burst.
    connecting = QgaClient.connect(guest.qgaSocketPath, { timeoutMs: 60_000 });
    const boot = await guest.waitForBoot(60_000);
    assert.equal(boot.id, id);
    client = await connecting;
    connecting = undefined;
    await client.ping();
  });

  it('freezes, refuses guest-exec while frozen, thaws', async () => {
    const qga = client!;
    assert.equal(await qga.fsfreezeStatus(), 'thawed');
    assert.equal(await qga.fsfreezeFreeze(), 1);
    try {
      assert.equal(await qga.fsfreezeStatus(), 'frozen');
      await assert.rejects(qga.exec('/bin/true'), (err: unknown) => {
        assert.ok(err instanceof QgaCommandError, String(err));
        assert.equal(err.errorClass, 'CommandNotFound');
        assert.equal(err.command, 'guest-exec');
        return true;
      });
    } finally {
      assert.equal(await qga.fsfreezeThaw(), 1);
    }
    assert.equal(await qga.fsfreezeStatus(), 'thawed');
  });

  it('runs a program with guest-exec: output and exit code', async () => {
    const result = await client!.exec('/bin/sh', ['-c', 'echo hi; echo oops >&2; exit 3'], { captureOutput: true, timeoutMs: 10_000 });
    assert.equal(result.stdout.toString('utf8'), 'hi\n');
    assert.equal(result.stderr.toString('utf8'), 'oops\n');
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, undefined);
  });

  it('ssh into the guest reads the id the VM was started with', async () => {
    assert.equal((await vm!.ssh('cat /etc/guestvm-id')).trim(), id);
  });

  it('the freeze ran the in-guest hook before freezing and the thaw after', async () => {
    const state = await vm!.ssh('cat /var/lib/app/state');
    assert.match(state, /^app quiesced uptime=[0-9.]+\napp resumed uptime=[0-9.]+\n$/);
  });

  it('a client after an abandoned one syncs past its half request and unread replies', async () => {
    await client!.close();
    client = undefined;
    const raw = createConnection(vm!.qgaSocketPath);
    await once(raw, 'connect');
    raw.write('{"execute":"guest-ping"}\n');
    await once(raw, 'data');
    // Requests whose replies nobody reads, then half a request left in the agent's parser.
    raw.write('{"execute":"guest-get-osinfo"}\n{"execute":"guest-fsfreeze-status"}\n{"execute":"guest-ping","argu');
    raw.destroy();
    await once(raw, 'close');
    // One sync only: it must get through on the first try, so the 0xFF has to reset the parser.
    client = await QgaClient.connect(vm!.qgaSocketPath, { timeoutMs: 5000, syncIntervalMs: 60_000 });
    assert.equal(await client.fsfreezeStatus(), 'thawed');
    const result = await client.exec('/bin/echo', ['again']);
    assert.equal(result.stdout.toString('utf8'), 'again\n');
    assert.equal(result.exitCode, 0);
  });
});
