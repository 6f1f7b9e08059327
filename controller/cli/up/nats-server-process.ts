/**
 * A nats-server with JetStream as a child process (Debian's 2.9), on 127.0.0.1. With port 0 the
 * server picks a free port and reports it in its ports file; a fixed port survives restarts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedProcess } from './managed-process.js';

export const NATS_SERVER_BIN = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

/** A free TCP port on 127.0.0.1 (the OS picks; a small race remains, as with any such probe). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class NatsServerProcess {
  readonly process: ManagedProcess;
  private portsDir: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.portsDir = join(dir, 'ports');
    mkdirSync(this.portsDir, { recursive: true });
    this.process = new ManagedProcess({
      name: 'nats-server',
      command: NATS_SERVER_BIN,
      args: ['-js', '-sd', join(dir, 'store'), '-a', '127.0.0.1', '-p', String(port), '-m', '-1', '--ports_file_dir', this.portsDir],
      logFile: join(dir, 'nats-server.log'),
      readyFile: join(dir, 'ready'),
    });
  }

  /** The client URL. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts a server whose store lives in `dir`, on `port` (0: a free one, kept for restarts). */
  static async start(dir: string, port = 0): Promise<NatsServerProcess> {
    mkdirSync(dir, { recursive: true });
    const server = new NatsServerProcess(dir, port === 0 ? await freePort() : port);
    await server.startProcess();
    return server;
  }

  private async startProcess(): Promise<void> {
    for (const f of readdirSync(this.portsDir)) rmSync(join(this.portsDir, f), { force: true });
    // nats-server has no ready file of ours: it writes its ports file once listening.
    const started = this.process.start();
    const readyFile = this.process.opts.readyFile;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ports = readdirSync(this.portsDir).find((f) => f.endsWith('.ports'));
      if (ports && readFileSync(join(this.portsDir, ports), 'utf8').includes('nats')) {
        writeFileSync(readyFile, ports);
        break;
      }
      if (Date.now() > deadline) throw new Error(`nats-server did not start; see ${this.process.opts.logFile}`);
      await sleep(50);
    }
    await started;
  }

  /** Restarts on the same port and store (clients reconnect by themselves). */
  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.process.stop(5000);
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }
}
