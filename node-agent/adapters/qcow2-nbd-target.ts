/**
 * qcow2 images as restore targets: `qemu-img create -f qcow2`, then a private `qemu-nbd` export
 * of the new image on a unix socket, written with the NBD client. Only non-zero data is written,
 * so every other cluster stays unallocated (reads as zeros, takes no space). `flush` is an NBD
 * flush (qemu-nbd fsyncs the image); `close` disconnects, which ends qemu-nbd (started without
 * --persistent), and waits for it to exit cleanly.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AppError, PreconditionError } from '../../shared/errors.js';
import { NbdClient } from '../hypervisors/qemu/nbd-client.js';
import type { DiskFormat, DiskTarget, DiskTargets } from '../ports/disk-target.js';

const run = promisify(execFile);
const EXPORT = 'restore';
const READY_TIMEOUT_MS = 15_000;

/** qemu-img or qemu-nbd failed while a restore created or wrote an image. */
export class QemuImageError extends AppError {
  constructor(path: string, problem: string, cause?: unknown) {
    super('INTERNAL', `qcow2 image ${path}: ${problem}`, { cause, details: { path, problem } });
  }
}

class Qcow2NbdTarget implements DiskTarget {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly server: ChildProcess,
    private readonly exited: Promise<number | null>,
    private readonly client: NbdClient,
    private readonly socketPath: string,
  ) {}

  write(data: Buffer, position: number): Promise<void> {
    return this.client.write(position, data);
  }

  flush(): Promise<void> {
    return this.client.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.client.disconnect();
      } catch {
        this.client.destroy();
      }
      const timer = setTimeout(() => this.server.kill('SIGKILL'), READY_TIMEOUT_MS);
      const code = await this.exited;
      clearTimeout(timer);
      await rm(this.socketPath, { force: true });
      if (code !== 0) throw new QemuImageError(this.path, `qemu-nbd exited with ${code}`);
    })();
    return this.closing;
  }
}

/** Creates qcow2 images (qemu-img, qemu-nbd); `raw` goes to `raw`. */
export function qcow2Targets(raw: DiskTargets): DiskTargets {
  return {
    async create(path: string, format: DiskFormat, sizeBytes: number): Promise<DiskTarget> {
      if (format === 'raw') return raw.create(path, format, sizeBytes);
      try {
        await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, String(sizeBytes)]);
      } catch (err) {
        throw new QemuImageError(path, 'qemu-img create failed', err);
      }
      const socketPath = join(tmpdir(), `bulwark-restore-${randomBytes(6).toString('hex')}.sock`);
      const server = spawn('qemu-nbd', ['-f', 'qcow2', '-k', socketPath, '-x', EXPORT, '--cache=writeback', path], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => {
        server.once('exit', (code) => resolve(code));
        server.once('error', () => resolve(null));
      });
      const client = await connectWhenReady(socketPath, exited).catch(async (err: unknown) => {
        server.kill('SIGKILL');
        await exited;
        throw new QemuImageError(path, `qemu-nbd did not serve the image: ${stderr.trim() || String(err)}`, err);
      });
      if (client.flags.readOnly) throw new PreconditionError(`qemu-nbd exported ${path} read-only`);
      return new Qcow2NbdTarget(path, server, exited, client, socketPath);
    },
  };
}

/** Connects once qemu-nbd listens (it creates the socket after it opened the image). */
async function connectWhenReady(socketPath: string, exited: Promise<number | null>): Promise<NbdClient> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    try {
      return await NbdClient.connect({ socketPath }, EXPORT, { timeoutMs: 5_000 });
    } catch (err) {
      if (gone || Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}
