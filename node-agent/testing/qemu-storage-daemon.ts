/**
 * A real qemu-storage-daemon for tests: qcow2 disks as block nodes named by the caller, a QMP
 * monitor on a unix socket and, optionally, an NBD server with one writable export per disk (the
 * export is named after the node) so a test can play the guest with qemu-io. The daemon runs as a
 * child process (no --daemonize) so a test can SIGKILL it; `start` resolves once the sockets listen.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A disk to serve: a new qcow2 of `sizeBytes` in the daemon's dir, or an existing image (to restart on it). */
export type QsdDiskSpec =
  | { readonly nodeName: string; readonly sizeBytes: number }
  | { readonly nodeName: string; readonly imagePath: string };

/** A disk the daemon serves. */
export interface QsdDisk {
  readonly nodeName: string;
  readonly imagePath: string;
  /** The writable NBD export's name (the node name), when the NBD server runs. */
  readonly exportName: string | undefined;
}

export interface QsdStartOptions {
  /** An existing directory (the test's mkdtemp) for sockets, pid file and new images. */
  readonly dir: string;
  readonly disks: readonly QsdDiskSpec[];
  /** Prefix of the socket and pid file names, so several daemons can share `dir`; 'qsd' by default. */
  readonly name?: string;
  /** Starts an NBD server on a unix socket with a writable export per disk. */
  readonly nbd?: boolean;
  /** Deadline for the daemon to be ready; 10 s by default. */
  readonly timeoutMs?: number;
}

/** One `write -P` of qemu-io: `length` bytes of `pattern` at `offset`. */
export interface PatternWrite {
  readonly offset: number;
  readonly length: number;
  readonly pattern: number;
}

/** How the daemon process ended. */
export interface QsdExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const MAX_OUTPUT_CHARS = 64 * 1024;

/** A running qemu-storage-daemon child process. */
export class QemuStorageDaemon {
  readonly process: ChildProcess;
  readonly qmpSocketPath: string;
  readonly nbdSocketPath: string | undefined;
  readonly disks: readonly QsdDisk[];
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<QsdExit>;
  private exit: QsdExit | undefined;
  private output = '';

  private constructor(child: ChildProcess, qmpSocketPath: string, nbdSocketPath: string | undefined, disks: QsdDisk[]) {
    this.process = child;
    this.qmpSocketPath = qmpSocketPath;
    this.nbdSocketPath = nbdSocketPath;
    this.disks = disks;
    const collect = (chunk: Buffer) => {
      if (this.output.length < MAX_OUTPUT_CHARS) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Creates the images, starts the daemon and resolves once its QMP (and NBD) sockets listen. */
  static async start(options: QsdStartOptions): Promise<QemuStorageDaemon> {
    const name = options.name ?? 'qsd';
    const timeoutMs = options.timeoutMs ?? 10_000;
    const qmpSocketPath = join(options.dir, `${name}-qmp.sock`);
    const nbdSocketPath = options.nbd === true ? join(options.dir, `${name}-nbd.sock`) : undefined;
    const pidPath = join(options.dir, `${name}.pid`);
    // A SIGKILLed daemon leaves its pid file behind, and the file's appearance is the ready signal.
    await rm(pidPath, { force: true });

    const disks: QsdDisk[] = [];
    const args = [
      '--chardev', `socket,id=qmp0,path=${opt(qmpSocketPath)},server=on,wait=off`,
      '--monitor', 'chardev=qmp0',
    ];
    for (const spec of options.disks) {
      let imagePath: string;
      if ('imagePath' in spec) {
        imagePath = spec.imagePath;
      } else {
        imagePath = join(options.dir, `${spec.nodeName}.qcow2`);
        await createQcow2(imagePath, spec.sizeBytes);
      }
      args.push(
        '--blockdev', `driver=file,node-name=${spec.nodeName}-file,filename=${opt(imagePath)}`,
        '--blockdev', `driver=qcow2,node-name=${spec.nodeName},file=${spec.nodeName}-file`,
      );
      disks.push({ nodeName: spec.nodeName, imagePath, exportName: nbdSocketPath === undefined ? undefined : spec.nodeName });
    }
    if (nbdSocketPath !== undefined) {
      args.push('--nbd-server', `addr.type=unix,addr.path=${opt(nbdSocketPath)}`);
      for (const disk of disks) {
        args.push('--export', `type=nbd,id=exp-${disk.nodeName},node-name=${disk.nodeName},name=${disk.nodeName},writable=on`);
      }
    }
    args.push('--pidfile', pidPath);

    const child = spawn('qemu-storage-daemon', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const daemon = new QemuStorageDaemon(child, qmpSocketPath, nbdSocketPath, disks);
    try {
      // QEMU documents that the pid file is written after the chardevs, exports and NBD server are
      // created and before connections are accepted: once it exists, the sockets listen.
      await daemon.waitForFile(pidPath, timeoutMs);
    } catch (err) {
      await daemon.kill();
      throw err;
    }
    return daemon;
  }

  /** The process id. */
  get pid(): number {
    if (this.process.pid === undefined) throw new Error('qemu-storage-daemon has no pid');
    return this.process.pid;
  }

  /** What the daemon printed so far (stdout and stderr, first 64 KiB). */
  get log(): string {
    return this.output;
  }

  /** The NBD URI of a disk's writable export, for qemu-io, nbdinfo or an NBD client. */
  nbdUri(nodeName: string): string {
    const disk = this.disk(nodeName);
    if (this.nbdSocketPath === undefined || disk.exportName === undefined) {
      throw new Error('the daemon was started without nbd: true');
    }
    return `nbd+unix:///${disk.exportName}?socket=${this.nbdSocketPath}`;
  }

  /** Writes patterns through the disk's writable NBD export, as a guest would (qemu-io, exit code checked). */
  async writePattern(nodeName: string, writes: readonly PatternWrite[]): Promise<void> {
    await runQemuIo(
      this.nbdUri(nodeName),
      writes.map((w) => `write -P 0x${w.pattern.toString(16)} ${w.offset} ${w.length}`),
    );
  }

  /** Stops the daemon cleanly (SIGTERM: bitmaps are persisted) and waits for exit 0; SIGKILL past the deadline. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exit === undefined) {
      this.process.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const result = await Promise.race([this.exited, deadline]);
      clearTimeout(timer);
      if (result === 'timeout') {
        await this.kill();
        throw new Error(`qemu-storage-daemon did not exit within ${timeoutMs} ms of SIGTERM; killed`);
      }
      if (result.code !== 0) {
        throw new Error(`qemu-storage-daemon exited with ${result.code ?? result.signal} on SIGTERM: ${this.output}`);
      }
    }
  }

  /** SIGKILLs the daemon (a crash: bitmaps become inconsistent) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.exit === undefined && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
    }
    if (this.process.pid !== undefined) await this.exited;
  }

  private disk(nodeName: string): QsdDisk {
    const disk = this.disks.find((d) => d.nodeName === nodeName);
    if (disk === undefined) throw new Error(`no disk ${nodeName} in this qemu-storage-daemon`);
    return disk;
  }

  private waitForFile(path: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const watcher = watch(dirname(path));
      const done = (err?: Error) => {
        clearTimeout(timer);
        watcher.close();
        this.process.off('error', onSpawnError);
        if (err === undefined) resolve();
        else reject(err);
      };
      const check = () => {
        if (existsSync(path)) done();
      };
      const onSpawnError = (err: Error) => done(err);
      const timer = setTimeout(
        () => done(new Error(`qemu-storage-daemon not ready within ${timeoutMs} ms: ${this.output}`)),
        timeoutMs,
      );
      watcher.on('change', (_type, filename) => {
        if (filename === basename(path)) check();
      });
      watcher.on('error', (err) => done(err));
      this.process.once('error', onSpawnError);
      this.exited.then(
        (exit) => done(new Error(`qemu-storage-daemon exited (${exit.code ?? exit.signal}) during startup: ${this.output}`)),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
      // Armed before this check, so a file created in between is not missed.
      check();
    });
  }
}

/** Creates a qcow2 image of `sizeBytes` (no backing file) with qemu-img. */
export async function createQcow2(path: string, sizeBytes: number): Promise<void> {
  await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', path, String(sizeBytes)]);
}

/** Runs qemu-io commands (`-c`) on a raw target such as an NBD URI; rejects unless it exits 0. */
export async function runQemuIo(target: string, commands: readonly string[], timeoutMs = 30_000): Promise<string> {
  return runTool('qemu-io', ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), target], timeoutMs);
}

async function runTool(command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    // execFile's error carries the child's output as own properties.
    const fields: Record<string, unknown> = typeof err === 'object' && err !== null ? { ...err } : {};
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const detail = `${text(fields['stdout'])}${text(fields['stderr'])}`;
    throw new Error(`${command} ${args.join(' ')} failed: ${detail}`, { cause: err });
  }
}

/** Escapes a value for QEMU's key=value option syntax (a comma is doubled). */
function opt(value: string): string {
  return value.replaceAll(',', ',,');
}
