/**
 * A real libvirtd for tests, with no systemd: virtlogd and libvirtd run as child processes in the
 * foreground (no -d), serving `qemu:///system`; `start` resolves once `virsh version` answers and
 * `stop` SIGTERMs them and waits for their exit. When a libvirtd already answers (a developer's),
 * it is used as it is and left running. `TestDomain` is a small TCG domain (q35, 64 MiB, qcow2
 * virtio disks, no OS) started paused; tests play the guest with `qemu-io` through the HMP monitor
 * (`virsh qemu-monitor-command`, which taints the domain: tests only), as QEMU-CBT.md §4.5 shows.
 * Debian packages: libvirt-daemon-system libvirt-clients qemu-system-x86 (--no-install-recommends).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const SYSTEM_URI = 'qemu:///system';

const VIRTLOGD_SOCKET = '/run/libvirt/virtlogd-sock';
const MAX_OUTPUT_CHARS = 64 * 1024;

/** One `write -P` of qemu-io: `length` bytes of `pattern` at `offset`. */
export interface PatternWrite {
  readonly offset: number;
  readonly length: number;
  readonly pattern: number;
}

/** Runs a tool without a shell; rejects with its output unless it exits 0. */
export async function runTool(command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${stdout}${stderr}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

class Daemon {
  private output = '';
  readonly exited: Promise<void>;
  private done = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      if (this.output.length < MAX_OUTPUT_CHARS) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        this.done = true;
        resolve();
      });
      child.once('error', (err) => {
        this.output += String(err);
        this.done = true;
        resolve();
      });
    });
  }

  get isRunning(): boolean {
    return !this.done;
  }

  get log(): string {
    return this.output;
  }

  /** SIGTERM, then SIGKILL if it is still there after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.isRunning) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** libvirtd (and virtlogd) for one test file. */
export class Libvirtd {
  readonly uri = SYSTEM_URI;

  private constructor(private readonly daemons: readonly Daemon[]) {}

  /** Starts virtlogd and libvirtd unless a libvirtd already answers; resolves once virsh gets through. */
  static async start(options: { timeoutMs?: number } = {}): Promise<Libvirtd> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (await answers()) return new Libvirtd([]);
    const daemons: Daemon[] = [];
    try {
      if (!(await socketAnswers(VIRTLOGD_SOCKET))) {
        daemons.push(new Daemon('virtlogd', spawn('/usr/sbin/virtlogd', [], { stdio: ['ignore', 'pipe', 'pipe'] })));
      }
      const libvirtd = new Daemon('libvirtd', spawn('/usr/sbin/libvirtd', [], { stdio: ['ignore', 'pipe', 'pipe'] }));
      daemons.push(libvirtd);
      const deadline = Date.now() + timeoutMs;
      while (!(await answers())) {
        const dead = daemons.find((d) => !d.isRunning);
        if (dead) throw new Error(`${dead.name} exited during startup: ${dead.log}`);
        if (Date.now() > deadline) throw new Error(`libvirtd not answering within ${timeoutMs} ms: ${libvirtd.log}`);
        await sleep(100);
      }
      return new Libvirtd(daemons);
    } catch (err) {
      for (const d of daemons.reverse()) await d.stop();
      throw err;
    }
  }

  /** Whether this fixture started the daemons (and so stops them). */
  get started(): boolean {
    return this.daemons.length > 0;
  }

  /** `virsh -c qemu:///system <args>`. */
  virsh(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    return runTool('virsh', ['-q', '-c', this.uri, ...args], timeoutMs);
  }

  /** Stops the daemons this fixture started (libvirtd first: it talks to virtlogd). */
  async stop(): Promise<void> {
    for (const d of [...this.daemons].reverse()) await d.stop();
  }
}

async function answers(): Promise<boolean> {
  try {
    await runTool('virsh', ['-q', '-c', SYSTEM_URI, 'version'], 5000);
    return true;
  } catch {
    return false;
  }
}

function socketAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface TestDomainDisk {
  /** Target device: vda, vdb, ... */
  readonly target: string;
  /** An existing qcow2 image; its directory must be reachable by the user libvirt-qemu. */
  readonly imagePath: string;
}

/** A defined, paused TCG domain with virtio qcow2 disks. */
export class TestDomain {
  private constructor(
    private readonly libvirtd: Libvirtd,
    readonly name: string,
    readonly disks: readonly TestDomainDisk[],
  ) {}

  /** Defines the domain (persistent: checkpoints need one) and starts it paused. */
  static async start(libvirtd: Libvirtd, options: { name: string; disks: readonly TestDomainDisk[]; xmlPath: string }): Promise<TestDomain> {
    await writeFile(options.xmlPath, domainXml(options.name, options.disks));
    await libvirtd.virsh(['define', '--file', options.xmlPath]);
    const domain = new TestDomain(libvirtd, options.name, options.disks);
    try {
      await domain.startPaused();
    } catch (err) {
      await domain.remove();
      throw err;
    }
    return domain;
  }

  /** Starts the (shut off) domain with its vCPU paused. */
  async startPaused(): Promise<void> {
    await this.libvirtd.virsh(['start', '--domain', this.name, '--paused'], 60_000);
  }

  /** Writes patterns to a disk as the guest would (qemu-io on the device's BlockBackend). */
  async write(target: string, writes: readonly PatternWrite[]): Promise<void> {
    for (const w of writes) {
      const command = `qemu-io -d /machine/peripheral/ua-${target}/virtio-backend "write -P 0x${w.pattern.toString(16)} ${w.offset} ${w.length}"`;
      const out = await this.libvirtd.virsh(['qemu-monitor-command', '--domain', this.name, '--hmp', '--cmd', command]);
      // HMP reports qemu-io failures as text, not as an error.
      if (/error|failed|invalid|not found/i.test(out)) throw new Error(`qemu-io on ${this.name}/${target}: ${out.trim()}`);
    }
  }

  /** SIGKILLs the domain's QEMU (a crash: its dirty bitmaps are lost) and waits until libvirt shows it shut off. */
  async crash(timeoutMs = 10_000): Promise<void> {
    const pid = Number((await readFile(`/run/libvirt/qemu/${this.name}.pid`, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + timeoutMs;
    while (!(await this.libvirtd.virsh(['domstate', '--domain', this.name])).includes('shut off')) {
      if (Date.now() > deadline) throw new Error(`domain ${this.name} still running ${timeoutMs} ms after SIGKILL`);
      await sleep(50);
    }
  }

  /** The domain's checkpoint names, sorted. */
  async checkpoints(): Promise<string[]> {
    const out = await this.libvirtd.virsh(['checkpoint-list', '--domain', this.name, '--name']);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .sort();
  }

  /** Destroys the domain and undefines it with its checkpoint metadata; ignores what is already gone. */
  async remove(): Promise<void> {
    await this.libvirtd.virsh(['destroy', '--domain', this.name]).catch(() => undefined);
    await this.libvirtd.virsh(['undefine', '--domain', this.name, '--checkpoints-metadata']);
  }
}

function escapeXml(text: string): string {
  return text.replace(/[&<>'"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

function domainXml(name: string, disks: readonly TestDomainDisk[]): string {
  const diskXml = disks.map(
    (d) => `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${escapeXml(d.imagePath)}'/>
      <target dev='${escapeXml(d.target)}' bus='virtio'/>
      <alias name='ua-${escapeXml(d.target)}'/>
    </disk>`,
  );
  // No <graphics>: type 'none' is invalid, and none at all is what a headless test wants.
  return `<domain type='qemu'>
  <name>${escapeXml(name)}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${diskXml.join('\n')}
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
