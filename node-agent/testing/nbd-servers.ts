/**
 * Real NBD servers for tests: `qemu-nbd` exporting an image (optionally with dirty bitmaps) and
 * `nbdkit` with any plugin and filters (e.g. the error filter, toggled at run time by creating
 * or removing its error-file). Each runs in the foreground as our child on a unix socket; it is
 * ready once it has written its pid file, which both write only after the socket listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where a test server listens: a unix socket, or TCP on a host and port. */
export type NbdListen = { readonly socketPath: string } | { readonly host: string; readonly port: number };

const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STDERR_KEEP_BYTES = 8192;

/** A running NBD server process, stopped by the test that started it. */
export class NbdServerProcess {
  private stderrText = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly address: NbdListen,
    readonly exportName: string,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderrText = (this.stderrText + text).slice(-STDERR_KEEP_BYTES);
    });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** The unix socket path ('' when listening on TCP). */
  get socketPath(): string {
    return 'socketPath' in this.address ? this.address.socketPath : '';
  }

  /** The NBD URI of the export (for nbdinfo, nbdcopy, qemu-io). */
  get uri(): string {
    const name = encodeURIComponent(this.exportName);
    return 'socketPath' in this.address
      ? `nbd+unix:///${name}?socket=${this.address.socketPath}`
      : `nbd://${this.address.host}:${this.address.port}/${name}`;
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The tail of the server's stderr (for assertion messages). */
  get stderr(): string {
    return this.stderrText;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL now; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Waits until `pidFile` holds this process's pid; fails if the process exits first or on the deadline. */
  async waitReady(pidFile: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await readFile(pidFile, 'utf8').catch(() => '');
      if (text.trim() === String(this.child.pid)) return;
      if (!this.running) {
        throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready: ${this.stderr}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} was not ready within ${timeoutMs} ms: ${this.stderr}`);
      }
      await sleep(20);
    }
  }
}

/** A TCP port that was free a moment ago (bind to 0, read, close), for servers that need a number. */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

function pidFileFor(listen: NbdListen, pidFile: string | undefined): string {
  if (pidFile !== undefined) return pidFile;
  if ('socketPath' in listen) return `${listen.socketPath}.pid`;
  throw new Error('a TCP server needs options.pidFile');
}

export interface QemuNbdOptions {
  readonly image: string;
  readonly listen: NbdListen;
  /** Where the server writes its pid (default `<socketPath>.pid`; required for TCP). */
  readonly pidFile?: string;
  readonly exportName: string;
  /** Image format; default qcow2. */
  readonly format?: 'qcow2' | 'raw';
  readonly readOnly?: boolean;
  /** Persistent bitmaps of the image to expose as qemu:dirty-bitmap:NAME. */
  readonly bitmaps?: readonly string[];
  /** Simultaneous clients; default 0 (unlimited). */
  readonly shared?: number;
  /** Keep serving after the last client leaves (-t); default true. */
  readonly persistent?: boolean;
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
}

/** Starts `qemu-nbd` in the foreground (persistent by default); resolves once it listens. */
export async function startQemuNbd(options: QemuNbdOptions): Promise<NbdServerProcess> {
  const pidFile = pidFileFor(options.listen, options.pidFile);
  await rm(pidFile, { force: true });
  const listen = options.listen;
  const args = [
    ...('socketPath' in listen ? ['-k', listen.socketPath] : ['-b', listen.host, '-p', String(listen.port)]),
    '-x', options.exportName,
    '-f', options.format ?? 'qcow2',
    ...(options.persistent === false ? [] : ['-t']),
    `--shared=${options.shared ?? 0}`,
    `--pid-file=${pidFile}`,
    ...(options.readOnly ? ['-r'] : []),
    ...(options.bitmaps ?? []).flatMap((b) => ['-B', b]),
    ...(options.extraArgs ?? []),
    options.image,
  ];
  const child = spawn('qemu-nbd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const server = new NbdServerProcess('qemu-nbd', child, listen, options.exportName);
  await server.waitReady(pidFile, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  return server;
}

export interface NbdkitOptions {
  readonly listen: NbdListen;
  /** Where the server writes its pid (default `<socketPath>.pid`; required for TCP). */
  readonly pidFile?: string;
  /** Plugin name (`memory`, `file`, ...). */
  readonly plugin: string;
  /** Plugin and filter parameters, e.g. ['64M', 'error-pread-rate=100%', 'error-pread-file=/tmp/x']. */
  readonly params?: readonly string[];
  /** Filters, outermost first (`error`, `delay`, ...). */
  readonly filters?: readonly string[];
  /** The export name clients use (nbdkit serves the plugin under any name); default ''. */
  readonly exportName?: string;
  readonly readOnly?: boolean;
  readonly readyTimeoutMs?: number;
}

/** Starts `nbdkit -f` (it also exits with its parent); resolves once it listens. */
export async function startNbdkit(options: NbdkitOptions): Promise<NbdServerProcess> {
  const pidFile = pidFileFor(options.listen, options.pidFile);
  await rm(pidFile, { force: true });
  const listen = options.listen;
  const args = [
    '-f',
    '--exit-with-parent',
    ...('socketPath' in listen ? ['-U', listen.socketPath] : ['-i', listen.host, '-p', String(listen.port)]),
    '-P', pidFile,
    ...(options.readOnly ? ['-r'] : []),
    ...(options.filters ?? []).map((f) => `--filter=${f}`),
    options.plugin,
    ...(options.params ?? []),
  ];
  const child = spawn('nbdkit', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const server = new NbdServerProcess('nbdkit', child, listen, options.exportName ?? '');
  await server.waitReady(pidFile, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  return server;
}
