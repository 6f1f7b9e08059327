/**
 * A real Linux guest under QEMU/TCG for tests (shared GUEST-VM.md, approach A): Debian's kernel
 * booted directly (PVH vmlinux), a busybox initramfs, an ext4 root with qemu-guest-agent (fsfreeze
 * hook + demo hook `10-app`) and dropbear.
 *
 * ensureGuestImage() builds the image once per process with scripts/guest-vm/build.sh (cached on
 * disk across runs). GuestVm.start() boots it on its own qcow2 overlay, so the base never changes.
 * QEMU runs as a child process (no -daemonize); its serial console is read from stdout and copied
 * to `<dir>/<name>-console.log`. The guest prints `GUESTVM-BOOT-OK id=<id> uptime=<s>` once qemu-ga
 * and sshd run, or `GUESTVM-BOOT-FAIL: <why>` and reboots, which ends QEMU (-no-reboot).
 * The id is /etc/guestvm-id of the disk; `start({ id })` writes it there first (kernel argument
 * guestvm.id), so a copy of that disk later boots with the same id.
 * Sockets (QMP, QGA) live in a short /tmp/gv-XXXX dir: unix socket paths are limited to 107 bytes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, watch, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/guest-vm/build.sh', import.meta.url));
const BOOT_OK = /GUESTVM-BOOT-OK id=(\S+) uptime=([0-9.]+)/;
const BOOT_FAIL = /GUESTVM-BOOT-FAIL: ([^\r\n]*)/;
const ID_RULE = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_CONSOLE_CHARS = 1024 * 1024;
const MAX_STDERR_CHARS = 64 * 1024;
// ssh exits 255 with one of these while sshd is not listening yet (slirp accepts, then drops).
const SSH_NOT_READY = /Connection (refused|reset|closed)|kex_exchange_identification|Connection timed out/;

/** The built guest: paths of the files build.sh writes. */
export interface GuestImage {
  readonly dir: string;
  /** The ELF kernel QEMU loads with -kernel (PVH). */
  readonly kernelPath: string;
  readonly initrdPath: string;
  /** The qcow2 base image; never written: each VM boots an overlay on it. */
  readonly rootfsPath: string;
  /** root's ssh key in the guest. */
  readonly privateKeyPath: string;
  /** The guest's host key for strict host key checking: under the alias `guestvm` and for [127.0.0.1]:any port. */
  readonly knownHostsPath: string;
  /** The id the base image prints in its marker when started without one. */
  readonly baseId: string;
  readonly kernelRelease: string;
}

let building: Promise<GuestImage> | undefined;

/** Where the image is built: $BULWARK_GUEST_VM_DIR, else ${XDG_CACHE_HOME:-~/.cache}/bulwark/guest-vm. */
export function guestImageDir(): string {
  const fromEnv = process.env['BULWARK_GUEST_VM_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const cache = process.env['XDG_CACHE_HOME'];
  return join(cache !== undefined && cache !== '' ? cache : join(homedir(), '.cache'), 'bulwark', 'guest-vm');
}

/**
 * Builds the guest image if needed (once per process; build.sh itself is a no-op on a complete
 * image) and returns its paths. A fresh machine needs the Debian mirror and about a minute.
 */
export function ensureGuestImage(): Promise<GuestImage> {
  if (building === undefined) {
    building = buildGuestImage(guestImageDir());
    // A failed build is retried by the next caller.
    building.catch(() => (building = undefined));
  }
  return building;
}

async function buildGuestImage(dir: string): Promise<GuestImage> {
  try {
    await execFileAsync('bash', [BUILD_SCRIPT, dir], { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' });
  } catch (err) {
    const fields: Record<string, unknown> = typeof err === 'object' && err !== null ? { ...err } : {};
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    throw new Error(`scripts/guest-vm/build.sh ${dir} failed: ${text(fields['stderr'])}${text(fields['stdout'])}`, { cause: err });
  }
  return {
    dir,
    kernelPath: join(dir, 'vmlinux'),
    initrdPath: join(dir, 'initrd.cpio.gz'),
    rootfsPath: join(dir, 'rootfs.qcow2'),
    privateKeyPath: join(dir, 'id_ed25519'),
    knownHostsPath: join(dir, 'known_hosts'),
    baseId: (await readFile(join(dir, 'guestvm-id'), 'utf8')).trim(),
    kernelRelease: (await readFile(join(dir, 'kernel-release'), 'utf8')).trim(),
  };
}

export interface GuestVmStartOptions {
  /** An existing directory (the test's mkdtemp) for the overlay disk and the console log. */
  readonly dir: string;
  /** Written to the disk's /etc/guestvm-id before the marker, which then prints it. */
  readonly id?: string;
  /** Prefix of the file names in `dir` and QEMU's -name; 'guestvm' by default. */
  readonly name?: string;
  /** Host port forwarded to the guest's sshd on 127.0.0.1; a free one by default. */
  readonly sshPort?: number;
  /** A second QMP socket for the test, as QEMU serves one client per monitor socket. */
  readonly extraQmpSocket?: boolean;
  /** Boots this image (a restored disk, say) instead of a new overlay on the base; it is not deleted. */
  readonly diskPath?: string;
  readonly diskFormat?: 'qcow2' | 'raw';
  /** The image to boot; ensureGuestImage() when not given. */
  readonly image?: GuestImage;
  /** Deadline for QEMU to create its sockets; 10 s by default. */
  readonly timeoutMs?: number;
}

/** What the boot marker said. */
export interface GuestBoot {
  /** The content of the disk's /etc/guestvm-id. */
  readonly id: string;
  /** The guest's uptime when it printed the marker. */
  readonly uptimeSeconds: number;
  /** From QEMU's start to the marker, as seen by the host. */
  readonly elapsedMs: number;
}

/** How QEMU ended. */
export interface GuestVmExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface GuestSshOptions {
  /** Deadline for the whole command, retries while sshd is not up included; 30 s by default. */
  readonly timeoutMs?: number;
}

/** A running QEMU guest (qemu-system-x86_64 child process). */
export class GuestVm {
  readonly process: ChildProcess;
  readonly name: string;
  readonly image: GuestImage;
  /** The id passed to start(), if any. */
  readonly id: string | undefined;
  /** The disk the guest boots (the overlay, or the diskPath given). */
  readonly diskPath: string;
  /** The guest disk's QEMU block node (format layer) and its virtio-blk device id. */
  readonly diskNodeName = 'disk0';
  readonly diskDeviceId = 'vda';
  readonly consoleLogPath: string;
  /** The QMP socket for the product under test. */
  readonly qmpSocketPath: string;
  /** The second QMP socket, for the test itself (extraQmpSocket). */
  readonly testQmpSocketPath: string | undefined;
  readonly qgaSocketPath: string;
  readonly sshPort: number;
  /** Resolves when QEMU has exited, however it ended. */
  readonly exited: Promise<GuestVmExit>;

  private readonly socketDir: string;
  private readonly startedAt: number;
  private readonly consoleLog: WriteStream;
  private consoleText = '';
  private stderrText = '';
  private exit: GuestVmExit | undefined;
  private readonly consoleListeners = new Set<() => void>();

  private constructor(init: {
    child: ChildProcess;
    name: string;
    image: GuestImage;
    id: string | undefined;
    diskPath: string;
    consoleLogPath: string;
    socketDir: string;
    testQmp: boolean;
    sshPort: number;
    startedAt: number;
  }) {
    this.process = init.child;
    this.name = init.name;
    this.image = init.image;
    this.id = init.id;
    this.diskPath = init.diskPath;
    this.consoleLogPath = init.consoleLogPath;
    this.socketDir = init.socketDir;
    this.qmpSocketPath = join(init.socketDir, 'qmp.sock');
    this.testQmpSocketPath = init.testQmp ? join(init.socketDir, 'qmp-test.sock') : undefined;
    this.qgaSocketPath = join(init.socketDir, 'qga.sock');
    this.sshPort = init.sshPort;
    this.startedAt = init.startedAt;
    this.consoleLog = createWriteStream(init.consoleLogPath);
    init.child.stdout?.on('data', (chunk: Buffer) => {
      this.consoleLog.write(chunk);
      if (this.consoleText.length < MAX_CONSOLE_CHARS) this.consoleText += chunk.toString('utf8');
      for (const listener of [...this.consoleListeners]) listener();
    });
    init.child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderrText.length < MAX_STDERR_CHARS) this.stderrText += chunk.toString('utf8');
    });
    this.exited = new Promise((resolveExit) => {
      init.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.consoleLog.end();
        resolveExit(this.exit);
      });
    });
  }

  /** Creates the overlay (unless diskPath), starts QEMU and resolves once its QMP and QGA sockets exist. */
  static async start(options: GuestVmStartOptions): Promise<GuestVm> {
    if (options.id !== undefined && !ID_RULE.test(options.id)) {
      throw new Error(`guest id ${options.id} must match ${String(ID_RULE)}`);
    }
    const image = options.image ?? (await ensureGuestImage());
    const name = options.name ?? 'guestvm';
    const format = options.diskFormat ?? 'qcow2';
    let diskPath = options.diskPath;
    if (diskPath === undefined) {
      diskPath = join(options.dir, `${name}-disk.qcow2`);
      await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.rootfsPath, '-F', 'qcow2', diskPath]);
    }
    const sshPort = options.sshPort ?? (await freePort());
    const socketDir = await mkdtemp('/tmp/gv-');
    const qmp = join(socketDir, 'qmp.sock');
    const qga = join(socketDir, 'qga.sock');
    const append = [
      'console=ttyS0', 'root=/dev/vda', 'rw', 'quiet', 'loglevel=3', 'panic=-1', '8250.nr_uarts=1',
      'cryptomgr.notests', 'acpi=off',
      ...(options.id === undefined ? [] : [`guestvm.id=${options.id}`]),
    ];
    // TCG: this machine's CPU lacks vmx, and a KVM guest hangs. acpi=off saves ~1.6 s of PCI
    // interrupt-link evaluation under TCG; the guest then cannot power off, only reboot.
    const args = [
      '-name', name, '-machine', 'pc', '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', '128',
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-kernel', image.kernelPath, '-initrd', image.initrdPath, '-append', append.join(' '),
      '-serial', 'stdio',
      '-blockdev', `driver=file,filename=${opt(resolve(diskPath))},node-name=disk0-file,discard=unmap`,
      '-blockdev', `driver=${format},file=disk0-file,node-name=disk0,discard=unmap`,
      '-device', 'virtio-blk-pci,drive=disk0,id=vda',
      '-device', 'virtio-serial-pci,id=vser0',
      '-chardev', `socket,id=qga0,path=${qga},server=on,wait=off`,
      '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
      // restrict=on: the guest reaches nothing; only the forwarded port reaches it.
      '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-device', 'virtio-rng-pci',
      '-qmp', `unix:${qmp},server=on,wait=off`,
      ...(options.extraQmpSocket === true ? ['-qmp', `unix:${join(socketDir, 'qmp-test.sock')},server=on,wait=off`] : []),
    ];
    const startedAt = performance.now();
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const vm = new GuestVm({
      child,
      name,
      image,
      id: options.id,
      diskPath,
      consoleLogPath: join(options.dir, `${name}-console.log`),
      socketDir,
      testQmp: options.extraQmpSocket === true,
      sshPort,
      startedAt,
    });
    try {
      const sockets = [qmp, qga, ...(vm.testQmpSocketPath === undefined ? [] : [vm.testQmpSocketPath])];
      await vm.waitForSockets(sockets, options.timeoutMs ?? 10_000);
    } catch (err) {
      await vm.kill();
      throw err;
    }
    return vm;
  }

  /** What the serial console printed so far (first MiB). */
  get console(): string {
    return this.consoleText;
  }

  /** What QEMU printed on stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves on `GUESTVM-BOOT-OK`; rejects on `GUESTVM-BOOT-FAIL`, QEMU's exit, or the deadline. */
  waitForBoot(timeoutMs: number): Promise<GuestBoot> {
    return new Promise((resolveBoot, reject) => {
      let settled = false;
      const done = (err: Error | undefined, boot?: GuestBoot) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.consoleListeners.delete(check);
        if (err !== undefined) reject(err);
        else if (boot !== undefined) resolveBoot(boot);
      };
      const check = () => {
        const ok = BOOT_OK.exec(this.consoleText);
        if (ok !== null) {
          done(undefined, {
            id: ok[1] ?? '',
            uptimeSeconds: Number(ok[2]),
            elapsedMs: Math.round(performance.now() - this.startedAt),
          });
          return;
        }
        const failed = BOOT_FAIL.exec(this.consoleText);
        if (failed !== null) done(new Error(`guest boot failed: ${failed[1] ?? ''}\n${this.diagnostics()}`));
      };
      const timer = setTimeout(
        () => done(new Error(`no boot marker within ${timeoutMs} ms\n${this.diagnostics()}`)),
        timeoutMs,
      );
      this.consoleListeners.add(check);
      // Output is read before the exit event, so a marker printed just before exiting is seen first.
      this.exited.then(
        (exit) => {
          check();
          done(new Error(`QEMU exited (${exit.code ?? exit.signal}) before the boot marker\n${this.diagnostics()}`));
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
      check();
    });
  }

  /**
   * Runs a shell command in the guest as root over ssh (the generated key, strict host key
   * checking) and resolves with its stdout; rejects with its exit code and stderr when it fails.
   * Retries while sshd does not accept connections yet.
   */
  async ssh(command: string, options: GuestSshOptions = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = performance.now() + timeoutMs;
    const args = [
      '-F', '/dev/null',
      '-i', this.image.privateKeyPath,
      '-o', 'IdentitiesOnly=yes',
      '-o', 'BatchMode=yes',
      '-o', 'HostKeyAlias=guestvm',
      '-o', `UserKnownHostsFile=${this.image.knownHostsPath}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ConnectTimeout=10',
      '-o', 'LogLevel=ERROR',
      '-p', String(this.sshPort),
      'root@127.0.0.1',
      '--',
      command,
    ];
    for (;;) {
      const remainingMs = Math.max(1, Math.round(deadline - performance.now()));
      const result = await runCollecting('ssh', args, remainingMs);
      if (result.code === 0) return result.stdout;
      const notReady = result.code === 255 && SSH_NOT_READY.test(result.stderr);
      if (!notReady || performance.now() + 200 > deadline || this.exit !== undefined) {
        throw new Error(`ssh ${command} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }

  /** Shuts the guest down from inside (init syncs and remounts read-only) and waits for QEMU to exit. */
  async shutdownGuest(timeoutMs = 15_000): Promise<GuestVmExit> {
    // The session may end with the guest: only QEMU's exit says whether it worked.
    await this.ssh('/sbin/shutdown -h now', { timeoutMs }).catch(() => undefined);
    const exit = await this.waitForExit(timeoutMs);
    await this.cleanup();
    return exit;
  }

  /** Stops QEMU with SIGTERM (a clean QEMU exit: disks flushed, persistent bitmaps stored; the guest is not shut down). */
  async stop(timeoutMs = 10_000): Promise<GuestVmExit> {
    if (this.exit === undefined) this.process.kill('SIGTERM');
    try {
      return await this.waitForExit(timeoutMs);
    } catch (err) {
      await this.kill();
      throw err;
    } finally {
      await this.cleanup();
    }
  }

  /** SIGKILLs QEMU (a host crash for the guest) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.exit === undefined && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
    }
    if (this.process.pid !== undefined) await this.exited;
    await this.cleanup();
  }

  private async waitForExit(timeoutMs: number): Promise<GuestVmExit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, deadline]);
    clearTimeout(timer);
    if (result === 'timeout') throw new Error(`QEMU did not exit within ${timeoutMs} ms`);
    return result;
  }

  private async cleanup(): Promise<void> {
    await rm(this.socketDir, { recursive: true, force: true });
  }

  private diagnostics(): string {
    const consoleTail = this.consoleText.slice(-4000);
    return `console:\n${consoleTail}\nqemu stderr:\n${this.stderrText.slice(-4000)}`;
  }

  private waitForSockets(paths: readonly string[], timeoutMs: number): Promise<void> {
    return new Promise((resolveReady, reject) => {
      const watcher = watch(this.socketDir);
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        watcher.close();
        this.process.off('error', done);
        if (err === undefined) resolveReady();
        else reject(err);
      };
      const check = () => {
        if (paths.every((path) => existsSync(path))) done();
      };
      const timer = setTimeout(
        () => done(new Error(`QEMU did not create its sockets within ${timeoutMs} ms\n${this.diagnostics()}`)),
        timeoutMs,
      );
      watcher.on('change', check);
      watcher.on('error', (err) => done(err));
      this.process.once('error', done);
      this.exited.then(
        (exit) => done(new Error(`QEMU exited (${exit.code ?? exit.signal}) during startup\n${this.diagnostics()}`)),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
      // Armed before this check, so a socket created in between is not missed.
      check();
    });
  }
}

interface Collected {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCollecting(command: string, args: readonly string[], timeoutMs: number): Promise<Collected> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
}

/** A TCP port on 127.0.0.1 nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}

/** Escapes a value for QEMU's key=value option syntax (a comma is doubled). */
function opt(value: string): string {
  return value.replaceAll(',', ',,');
}
