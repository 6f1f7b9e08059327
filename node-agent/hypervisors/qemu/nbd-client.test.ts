import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ValidationError } from '../../../shared/errors.js';
import { seededBytes, type Region } from '../../testing/disk-images.js';
import { freeTcpPort, startNbdkit, startQemuNbd, type NbdServerProcess } from '../../testing/nbd-servers.js';
import { NbdClient } from './nbd-client.js';
import {
  NbdConnectError,
  NbdDisconnectedError,
  NbdExportNotFoundError,
  NbdMetaContextError,
  NbdProtocolError,
  NbdRequestError,
  NbdTimeoutError,
  NbdUnsupportedError,
} from './nbd-errors.js';
import {
  BASE_ALLOCATION,
  IHAVEOPT,
  NBD_MAGIC,
  NbdCommand,
  NbdOption,
  NbdOptionReply,
  ReplyFlag,
  ReplyType,
  STRUCTURED_REPLY_MAGIC,
  dirtyBitmapContext,
  isDirty,
  isHole,
  isZero,
  writeU64,
  type NbdExtent,
} from './nbd-protocol.js';

const exec = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

async function run(command: string, args: readonly string[]): Promise<string> {
  const { stdout } = await exec(command, args, { maxBuffer: 64 * MiB });
  return stdout;
}

/** Creates a qcow2 image and writes `regions` into it with qemu-io (each from a file of its bytes). */
async function qcow2(dir: string, name: string, sizeBytes: number, regions: readonly Region[] = []): Promise<string> {
  const image = join(dir, name);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', image, String(sizeBytes)]);
  await writeRegions(dir, image, regions);
  return image;
}

async function writeRegions(dir: string, image: string, regions: readonly Region[]): Promise<void> {
  if (regions.length === 0) return;
  const commands: string[] = [];
  for (const [i, r] of regions.entries()) {
    const file = join(dir, `region-${r.offset}-${i}.bin`);
    await writeFile(file, r.data);
    commands.push('-c', `write -q -s ${file} ${r.offset} ${r.data.length}`);
  }
  await run('qemu-io', ['-f', 'qcow2', ...commands, image]);
}

/** The whole-disk contents `regions` describe. */
function imageBytes(sizeBytes: number, regions: readonly Region[]): Buffer {
  const image = Buffer.alloc(sizeBytes);
  for (const r of regions) image.set(r.data, r.offset);
  return image;
}

async function collect(it: AsyncIterable<NbdExtent>): Promise<NbdExtent[]> {
  const out: NbdExtent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** Adjacent extents with equal flags merged into one, as plain tuples. */
function merged(extents: readonly { offset: number; length: number; flags: number }[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const e of extents) {
    const last = out.at(-1);
    if (last && last[2] === e.flags && last[0] + last[1] === e.offset) last[1] += e.length;
    else out.push([e.offset, e.length, e.flags]);
  }
  return out;
}

/** `nbdinfo --map --json` of an export: the reference implementation (libnbd) of the same walk. */
async function nbdinfoMap(uri: string, context?: string): Promise<[number, number, number][]> {
  const out = await run('nbdinfo', [context ? `--map=${context}` : '--map', '--json', uri]);
  const rows = JSON.parse(out) as { offset: number; length: number; type: number }[];
  return merged(rows.map((r) => ({ offset: r.offset, length: r.length, flags: r.type })));
}

describe('NBD client', { timeout: 30_000 }, () => {
  let dir: string;
  const servers: NbdServerProcess[] = [];
  const clients: NbdClient[] = [];

  async function connect(server: NbdServerProcess, options: Parameters<typeof NbdClient.connect>[2] = {}): Promise<NbdClient> {
    const client = await NbdClient.connect(server.address, server.exportName, options);
    clients.push(client);
    return client;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-nbd-'));
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('qemu-nbd, read-only qcow2 with data and holes', () => {
    const size = 64 * MiB;
    const regions: Region[] = [
      { offset: 0, data: seededBytes(1, 4 * MiB) },
      { offset: 8 * MiB, data: seededBytes(2, MiB) },
      { offset: 40 * MiB, data: seededBytes(3, 64 * KiB) },
      { offset: 63 * MiB, data: seededBytes(4, MiB) },
    ];
    const expected = imageBytes(size, regions);
    let image: string;
    let server: NbdServerProcess;
    let client: NbdClient;

    before(async () => {
      image = await qcow2(dir, 'small.qcow2', size, regions);
      server = await startQemuNbd({ image, listen: { socketPath: join(dir, 'small.sock') }, exportName: 'small', readOnly: true });
      servers.push(server);
      client = await connect(server, { metaContexts: [BASE_ALLOCATION] });
    });

    it('negotiates size, flags, block size and the meta context', () => {
      assert.equal(client.sizeBytes, size);
      assert.equal(client.flags.readOnly, true);
      assert.equal(client.flags.canFlush, true);
      assert.equal(client.flags.canTrim, false);
      assert.equal(client.flags.canWriteZeroes, false);
      assert.deepEqual(client.blockSize, { minimum: 1, preferred: 4096, maximum: 32 * MiB });
      assert.deepEqual([...client.contexts.keys()], [BASE_ALLOCATION]);
    });

    it('walks base:allocation: data where written, hole+zero elsewhere, same as nbdinfo', async () => {
      const extents = await collect(client.extents(BASE_ALLOCATION));
      const HZ = 3;
      assert.deepEqual(merged(extents), [
        [0, 4 * MiB, 0],
        [4 * MiB, 4 * MiB, HZ],
        [8 * MiB, MiB, 0],
        [9 * MiB, 31 * MiB, HZ],
        [40 * MiB, 64 * KiB, 0],
        [40 * MiB + 64 * KiB, 23 * MiB - 64 * KiB, HZ],
        [63 * MiB, MiB, 0],
      ]);
      assert.deepEqual(merged(extents), await nbdinfoMap(server.uri));
      assert.ok(isHole(HZ) && isZero(HZ) && !isHole(0));
    });

    it('walks in small steps, continuing from the last extent, and clamps to `to`', async () => {
      const whole = await collect(client.extents(BASE_ALLOCATION));
      assert.deepEqual(await collect(client.extents(BASE_ALLOCATION, { stepBytes: 3 * MiB + 512 })), whole);
      const part = await collect(client.extents(BASE_ALLOCATION, { from: 3 * MiB, to: 8 * MiB + 4096 }));
      assert.deepEqual(merged(part), [
        [3 * MiB, MiB, 0],
        [4 * MiB, 4 * MiB, 3],
        [8 * MiB, 4096, 0],
      ]);
    });

    it('reads the whole disk byte-exact with 16 reads of 1 MiB in flight', async () => {
      // 16 workers, each reusing its own buffer, as the backup pipeline does.
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          const buf = Buffer.alloc(MiB, 0xee);
          while (next < size) {
            const offset = next;
            next += MiB;
            await client.readInto(buf, offset);
            assert.ok(buf.equals(expected.subarray(offset, offset + MiB)), `bytes at ${offset}`);
          }
        }),
      );
      const odd = await Promise.all([client.read(4 * MiB - 1000, 3000), client.read(40 * MiB + 65_000, 1000), client.read(1, 1)]);
      assert.ok(odd[0].equals(expected.subarray(4 * MiB - 1000, 4 * MiB + 2000)));
      assert.ok(odd[1].equals(expected.subarray(40 * MiB + 65_000, 40 * MiB + 66_000)));
      assert.ok(odd[2].equals(expected.subarray(1, 2)));
    });

    it('zero-fills holes in a reused buffer', async () => {
      const buf = Buffer.alloc(2 * MiB, 0xff);
      await client.readInto(buf, 10 * MiB);
      assert.ok(buf.equals(Buffer.alloc(2 * MiB)));
      buf.fill(0xff);
      await client.readInto(buf, 7 * MiB);
      assert.ok(buf.equals(expected.subarray(7 * MiB, 9 * MiB)));
    });

    it('splits a read larger than the max payload into several requests', async () => {
      const big = await client.read(MiB, 40 * MiB);
      assert.ok(big.equals(expected.subarray(MiB, 41 * MiB)));
    });

    it('keeps at most maxInFlight requests on the wire and still answers all of them', async () => {
      const narrow = await connect(server, { maxInFlight: 2 });
      const reads = await Promise.all(Array.from({ length: 24 }, (_, i) => narrow.read(i * 2 * MiB + 7, 100_000)));
      reads.forEach((r, i) => assert.ok(r.equals(expected.subarray(i * 2 * MiB + 7, i * 2 * MiB + 7 + 100_000)), `read ${i}`));
      await narrow.disconnect();
    });

    it('refuses writes, trim and zeroes on a read-only export without touching the connection', async () => {
      await assert.rejects(client.write(0, Buffer.alloc(512)), (e: unknown) => e instanceof NbdUnsupportedError && /read-only/.test(e.message));
      await assert.rejects(client.writeZeroes(0, 512), NbdUnsupportedError);
      await assert.rejects(client.trim(0, 512), NbdUnsupportedError);
      await assert.rejects(client.blockStatus(dirtyBitmapContext('bm0'), 0, 512), NbdUnsupportedError);
      await assert.rejects(client.read(size - 10, 11), ValidationError);
      assert.ok((await client.read(0, 4096)).equals(expected.subarray(0, 4096)));
    });

    it('fails the connect with typed errors: missing export, missing socket', async () => {
      await assert.rejects(NbdClient.connect(server.address, 'nope'), (e: unknown) => {
        return e instanceof NbdExportNotFoundError && e.exportName === 'nope';
      });
      await assert.rejects(NbdClient.connect({ socketPath: join(dir, 'absent.sock') }, 'small'), NbdConnectError);
    });

    it('connects over TCP too', async () => {
      const port = await freeTcpPort();
      const listen = { host: '127.0.0.1', port };
      const tcp = await startQemuNbd({ image, listen, pidFile: join(dir, 'tcp.pid'), exportName: 'small', readOnly: true });
      servers.push(tcp);
      const c = await connect(tcp);
      assert.ok((await c.read(8 * MiB, MiB)).equals(expected.subarray(8 * MiB, 9 * MiB)));
      await c.disconnect();
      await tcp.stop();
    });

    it('disconnects cleanly after pending requests; later requests reject as disconnected', async () => {
      const c = await connect(server);
      const pending = c.read(0, MiB);
      await c.disconnect();
      assert.ok((await pending).equals(expected.subarray(0, MiB)));
      assert.equal(c.isClosed, true);
      await assert.rejects(c.read(0, 512), NbdDisconnectedError);
    });
  });

  describe('qemu-nbd, 6 GiB qcow2 with a dirty bitmap', () => {
    const size = 6 * GiB;
    const unrecorded = [{ offset: 0, data: seededBytes(10, MiB) }];
    const recorded = [
      { offset: 10 * MiB, data: seededBytes(11, 64 * KiB) },
      { offset: 20 * MiB + 4 * KiB, data: seededBytes(12, 4 * KiB) },
      { offset: 4.5 * GiB, data: seededBytes(13, 128 * KiB) },
      { offset: size - 64 * KiB, data: seededBytes(14, 64 * KiB) },
    ];
    const bitmap = dirtyBitmapContext('bm0');
    let server: NbdServerProcess;
    let client: NbdClient;

    before(async () => {
      const image = await qcow2(dir, 'big.qcow2', size, unrecorded);
      await run('qemu-img', ['bitmap', '--add', image, 'bm0']);
      // qemu-io opens the image with the enabled bitmap, which records these writes.
      await writeRegions(dir, image, recorded);
      server = await startQemuNbd({ image, listen: { socketPath: join(dir, 'big.sock') }, exportName: 'big', readOnly: true, bitmaps: ['bm0'] });
      servers.push(server);
      client = await connect(server, { metaContexts: [BASE_ALLOCATION, bitmap] });
    });

    it('selects both contexts', () => {
      assert.equal(client.sizeBytes, size);
      assert.deepEqual([...client.contexts.keys()].sort(), [BASE_ALLOCATION, bitmap]);
    });

    it('walks the dirty bitmap past 4 GiB in steps: exactly the dirty granules', async () => {
      const extents = await collect(client.extents(bitmap));
      assert.equal(extents.at(-1)!.offset + extents.at(-1)!.length, size);
      assert.deepEqual(
        extents.filter((e) => isDirty(e.flags)).map((e) => [e.offset, e.length]),
        [
          [10 * MiB, 64 * KiB],
          [20 * MiB, 64 * KiB],
          [4.5 * GiB, 128 * KiB],
          [size - 64 * KiB, 64 * KiB],
        ],
      );
      assert.deepEqual(merged(extents), await nbdinfoMap(server.uri, bitmap));
    });

    it('walks base:allocation over 6 GiB the same as nbdinfo, with every written range allocated', async () => {
      const extents = await collect(client.extents(BASE_ALLOCATION));
      assert.deepEqual(merged(extents), await nbdinfoMap(server.uri));
      let at = 0;
      for (const e of extents) {
        assert.equal(e.offset, at);
        at += e.length;
      }
      assert.equal(at, size);
      for (const r of [...unrecorded, ...recorded]) {
        const overlapping = extents.filter((e) => e.offset < r.offset + r.data.length && e.offset + e.length > r.offset);
        assert.ok(overlapping.length > 0 && overlapping.every((e) => !isHole(e.flags)), `region at ${r.offset}`);
      }
      assert.ok(extents.some((e) => e.offset <= 5 * GiB && e.offset + e.length > 5 * GiB && isHole(e.flags)));
    });

    it('reads beyond 4 GiB byte-exact, and holes as zeros', async () => {
      const [a, b, c, d] = await Promise.all([
        client.read(4.5 * GiB, 128 * KiB),
        client.read(size - 64 * KiB, 64 * KiB),
        client.read(20 * MiB, 64 * KiB),
        client.read(4 * GiB - MiB, 2 * MiB),
      ]);
      assert.ok(a.equals(recorded[2]!.data));
      assert.ok(b.equals(recorded[3]!.data));
      assert.ok(c.equals(Buffer.concat([Buffer.alloc(4 * KiB), recorded[1]!.data, Buffer.alloc(56 * KiB)])));
      assert.ok(d.equals(Buffer.alloc(2 * MiB)));
    });

    it('names the bitmap a connect asked for that the export lacks', async () => {
      const missing = dirtyBitmapContext('nope');
      await assert.rejects(
        NbdClient.connect(server.address, 'big', { metaContexts: [BASE_ALLOCATION, missing] }),
        (e: unknown) => e instanceof NbdMetaContextError && e.missing.length === 1 && e.missing[0] === missing && e.message.includes(missing),
      );
      const again = await connect(server, { metaContexts: [bitmap] });
      assert.ok((await again.blockStatus(bitmap, 10 * MiB, 64 * KiB)).every((e) => isDirty(e.flags)));
      await again.disconnect();
    });
  });

  describe('qemu-nbd, writable export', () => {
    const size = 64 * MiB;
    let client: NbdClient;
    let view: Buffer;

    before(async () => {
      const image = await qcow2(dir, 'rw.qcow2', size);
      const server = await startQemuNbd({ image, listen: { socketPath: join(dir, 'rw.sock') }, exportName: 'rw' });
      servers.push(server);
      client = await connect(server, { metaContexts: [BASE_ALLOCATION] });
      view = Buffer.alloc(size);
    });

    it('offers the write capabilities', () => {
      assert.equal(client.flags.readOnly, false);
      assert.ok(client.flags.canFlush && client.flags.canFua && client.flags.canWriteZeroes && client.flags.canTrim);
    });

    it('writes (pipelined, split above the max payload, FUA) and reads back', async () => {
      const large = seededBytes(20, 34 * MiB);
      await client.write(3 * MiB, large);
      view.set(large, 3 * MiB);
      const small = Array.from({ length: 16 }, (_, i) => ({ offset: 44 * MiB + i * MiB, data: seededBytes(100 + i, MiB) }));
      await Promise.all(small.map((r, i) => client.write(r.offset, r.data, { fua: i % 2 === 0 })));
      for (const r of small) view.set(r.data, r.offset);
      await client.flush();
      const back = await Promise.all(Array.from({ length: size / MiB }, (_, i) => client.read(i * MiB, MiB)));
      assert.ok(Buffer.concat(back).equals(view));
    });

    it('writes zeroes, with and without NO_HOLE, and trims', async () => {
      await client.writeZeroes(5 * MiB, MiB, { noHole: true });
      await client.writeZeroes(10 * MiB + 4096, 100_000);
      await client.trim(50 * MiB, MiB);
      await client.flush();
      view.fill(0, 5 * MiB, 6 * MiB);
      view.fill(0, 10 * MiB + 4096, 10 * MiB + 4096 + 100_000);
      assert.ok((await client.read(0, 50 * MiB)).equals(view.subarray(0, 50 * MiB)));
      const status = await client.blockStatus(BASE_ALLOCATION, 5 * MiB, MiB);
      assert.ok(status.every((e) => e.offset >= 6 * MiB || isZero(e.flags)), JSON.stringify(status));
    });
  });

  describe('nbdkit with the error filter', () => {
    const readErrors = () => join(dir, 'error-pread');
    const writeErrors = () => join(dir, 'error-pwrite');
    const extentErrors = () => join(dir, 'error-extents');
    let client: NbdClient;
    const data = seededBytes(30, 4 * MiB);

    before(async () => {
      const server = await startNbdkit({
        listen: { socketPath: join(dir, 'nbdkit-error.sock') },
        plugin: 'memory',
        filters: ['error'],
        params: [
          '64M',
          'error-pread=EIO', 'error-pread-rate=100%', `error-pread-file=${readErrors()}`,
          'error-pwrite=ENOSPC', 'error-pwrite-rate=100%', `error-pwrite-file=${writeErrors()}`,
          'error-extents=EIO', 'error-extents-rate=100%', `error-extents-file=${extentErrors()}`,
        ],
      });
      servers.push(server);
      client = await connect(server, { metaContexts: [BASE_ALLOCATION] });
      await client.write(MiB, data);
    });

    it('rejects reads with EIO while the error file exists, then reads fine on the same connection', async () => {
      await writeFile(readErrors(), '');
      const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => client.read(MiB + i * 4096, 4096)));
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        const err: unknown = r.reason;
        assert.ok(err instanceof NbdRequestError, String(err));
        assert.equal(err.errnoName, 'EIO');
        assert.equal(err.errno, 5);
        assert.equal(err.command, 'NBD_CMD_READ');
      }
      assert.equal(client.isClosed, false);
      await rm(readErrors());
      const back = await Promise.all(Array.from({ length: 16 }, (_, i) => client.read(MiB + i * 256 * KiB, 256 * KiB)));
      assert.ok(Buffer.concat(back).equals(data));
    });

    it('rejects writes with ENOSPC and block status with EIO, connection still usable', async () => {
      await writeFile(writeErrors(), '');
      await assert.rejects(client.write(0, Buffer.alloc(4096, 1)), (e: unknown) => e instanceof NbdRequestError && e.errnoName === 'ENOSPC');
      await rm(writeErrors());
      await writeFile(extentErrors(), '');
      await assert.rejects(client.blockStatus(BASE_ALLOCATION, 0, MiB), (e: unknown) => e instanceof NbdRequestError && e.errnoName === 'EIO');
      await rm(extentErrors());
      await client.write(0, Buffer.alloc(4096, 1));
      assert.ok((await client.read(0, 4096)).equals(Buffer.alloc(4096, 1)));
      const extents = await collect(client.extents(BASE_ALLOCATION));
      assert.equal(extents.reduce((n, e) => n + e.length, 0), 64 * MiB);
    });
  });

  describe('nbdkit with the delay filter: a server that stops answering', () => {
    let server: NbdServerProcess;

    before(async () => {
      server = await startNbdkit({
        listen: { socketPath: join(dir, 'nbdkit-delay.sock') },
        plugin: 'memory',
        filters: ['delay'],
        params: ['16M', 'delay-read=30'],
      });
      servers.push(server);
    });

    it('fails the connection when no reply comes within replyTimeoutMs', async () => {
      const c = await connect(server, { replyTimeoutMs: 200 });
      await assert.rejects(c.read(0, 4096), (e: unknown) => e instanceof NbdDisconnectedError && e.cause instanceof NbdTimeoutError);
      assert.equal(c.isClosed, true);
    });

    it('rejects every pending read with the disconnected error when the server is killed', async () => {
      const c = await connect(server);
      const settled = Promise.allSettled(Array.from({ length: 8 }, (_, i) => c.read(i * MiB, MiB)));
      await server.kill();
      const results = await settled;
      for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof NbdDisconnectedError);
      assert.equal(c.isClosed, true);
      await assert.rejects(c.read(0, 512), NbdDisconnectedError);
    });
  });

  describe('scripted server: reply chunks out of order, unknown chunk types', () => {
    const disk = seededBytes(40, MiB);
    let scripted: Server;
    const accepted: Socket[] = [];
    const socketPath = () => join(dir, 'scripted.sock');

    before(async () => {
      scripted = createServer((socket) => {
        accepted.push(socket);
        serveScript(socket, disk).catch(() => socket.destroy());
      });
      await new Promise<void>((resolve) => scripted.listen(socketPath(), resolve));
    });

    after(async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => scripted.close(() => resolve()));
    });

    it('reassembles interleaved OFFSET_DATA / OFFSET_HOLE chunks of two reads', async () => {
      const c = await NbdClient.connect({ socketPath: socketPath() }, 'x');
      clients.push(c);
      const a = Buffer.alloc(64 * KiB, 0xff);
      const [, b] = await Promise.all([c.readInto(a, 0), c.read(64 * KiB, 64 * KiB)]);
      assert.ok(a.equals(Buffer.concat([Buffer.alloc(16 * KiB), disk.subarray(16 * KiB, 64 * KiB)])));
      assert.ok(b.equals(disk.subarray(64 * KiB, 128 * KiB)));
      await c.disconnect();
    });

    it('turns an unknown error chunk into a request error, then fails the connection on an unknown chunk', async () => {
      const c = await NbdClient.connect({ socketPath: socketPath() }, 'x');
      clients.push(c);
      await assert.rejects(c.read(128 * KiB, 4096), (e: unknown) => {
        return e instanceof NbdRequestError && e.errnoName === 'EIO' && e.serverMessage === 'boom';
      });
      assert.ok((await c.read(300 * KiB, 4096)).equals(disk.subarray(300 * KiB, 304 * KiB)));
      const other = c.read(400 * KiB, 4096);
      await assert.rejects(c.read(192 * KiB, 4096), (e: unknown) => e instanceof NbdDisconnectedError && e.cause instanceof NbdProtocolError);
      await assert.rejects(other, NbdDisconnectedError);
      assert.equal(c.isClosed, true);
    });
  });
});

/** A minimal fixed-newstyle server with canned replies chosen by the request offset. */
async function serveScript(socket: Socket, disk: Buffer): Promise<void> {
  const input = new ByteInput(socket);
  const greeting = Buffer.alloc(18);
  greeting.writeBigUInt64BE(NBD_MAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(3, 16);
  socket.write(greeting);
  await input.read(4);
  const optionReply = (option: number, type: number, data = Buffer.alloc(0)): void => {
    const head = Buffer.alloc(20);
    head.writeBigUInt64BE(0x0003e889045565a9n, 0);
    head.writeUInt32BE(option, 8);
    head.writeUInt32BE(type, 12);
    head.writeUInt32BE(data.length, 16);
    socket.write(Buffer.concat([head, data]));
  };
  for (;;) {
    const head = await input.read(16);
    const option = head.readUInt32BE(8);
    await input.read(head.readUInt32BE(12));
    if (option === NbdOption.GO) {
      const info = Buffer.alloc(12);
      info.writeUInt16BE(0, 0);
      writeU64(info, disk.length, 2);
      info.writeUInt16BE(1 | 2, 10);
      optionReply(option, NbdOptionReply.INFO, info);
      optionReply(option, NbdOptionReply.ACK);
      break;
    }
    optionReply(option, NbdOptionReply.ACK);
  }
  const chunk = (cookie: Buffer, flags: number, type: number, payload: Buffer): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
    h.writeUInt16BE(flags, 4);
    h.writeUInt16BE(type, 6);
    cookie.copy(h, 8);
    h.writeUInt32BE(payload.length, 16);
    return Buffer.concat([h, payload]);
  };
  const data = (cookie: Buffer, flags: number, offset: number, length: number): Buffer => {
    const p = Buffer.alloc(8 + length);
    writeU64(p, offset, 0);
    disk.copy(p, 8, offset, offset + length);
    return chunk(cookie, flags, ReplyType.OFFSET_DATA, p);
  };
  const DONE = ReplyFlag.DONE;
  let first: Buffer | undefined;
  for (;;) {
    const req = await input.read(28).catch(() => undefined);
    if (!req) return;
    if (req.readUInt16BE(6) === NbdCommand.DISC) {
      socket.end();
      return;
    }
    const cookie = req.subarray(8, 16);
    const offset = Number(req.readBigUInt64BE(16));
    const length = req.readUInt32BE(24);
    if (offset === 0 && !first) {
      first = Buffer.from(cookie);
    } else if (offset === 64 * KiB && first) {
      const a = first;
      const hole = Buffer.alloc(12);
      writeU64(hole, 0, 0);
      hole.writeUInt32BE(16 * KiB, 8);
      socket.write(
        Buffer.concat([
          data(cookie, 0, 96 * KiB, 32 * KiB),
          chunk(a, 0, ReplyType.OFFSET_HOLE, hole),
          data(a, 0, 48 * KiB, 16 * KiB),
          data(cookie, 0, 64 * KiB, 32 * KiB),
          data(a, DONE, 16 * KiB, 32 * KiB),
          chunk(cookie, DONE, ReplyType.NONE, Buffer.alloc(0)),
        ]),
      );
    } else if (offset === 128 * KiB) {
      const p = Buffer.alloc(10);
      p.writeUInt32BE(5, 0);
      p.writeUInt16BE(4, 4);
      p.write('boom', 6);
      socket.write(chunk(cookie, DONE, 0x8123, p));
    } else if (offset === 192 * KiB) {
      socket.write(chunk(cookie, DONE, 0x0042, Buffer.alloc(4)));
    } else if (offset !== 400 * KiB) {
      socket.write(data(cookie, DONE, offset, length));
    }
  }
}

class ByteInput {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, b]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.ended) throw new Error('closed');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}
