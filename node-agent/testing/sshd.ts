/**
 * A real OpenSSH server for tests, standing in for a guest's sshd: `/usr/sbin/sshd -D -e` as a
 * child process on 127.0.0.1 and a free port, with a generated config, host key and client key in
 * the test's directory (nothing of /etc/ssh is used). The client side gets a known_hosts file
 * listing the host key as `[127.0.0.1]:<port>`, for strict host key checking. Debian package:
 * openssh-server. As root, sshd needs its privilege separation directory /run/sshd, which a
 * system without systemd lacks: start() creates it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';
const MAX_OUTPUT_CHARS = 64 * 1024;

export interface SshdStartOptions {
  /** An existing directory (the test's mkdtemp) for the config, keys and known_hosts. */
  readonly dir: string;
  /** Deadline for sshd to listen; 10 s by default. */
  readonly timeoutMs?: number;
}

/** A running sshd child process and what a client needs to log in. */
export class Sshd {
  readonly host = '127.0.0.1';
  /** The user that may log in (the one running the tests: sshd without root can log in no one else). */
  readonly user: string;
  readonly process: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private done = false;

  private constructor(
    child: ChildProcess,
    readonly port: number,
    /** The client's private key (its public half is authorized). */
    readonly identityFile: string,
    /** known_hosts with this server's host key under `[127.0.0.1]:<port>`. */
    readonly knownHostsFile: string,
  ) {
    this.user = userInfo().username;
    this.process = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (this.output.length < MAX_OUTPUT_CHARS) this.output += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  /** Generates the keys and config, starts sshd and resolves once it listens. */
  static async start(options: SshdStartOptions): Promise<Sshd> {
    const { dir } = options;
    const hostKey = join(dir, 'sshd_host_ed25519');
    const clientKey = join(dir, 'client_ed25519');
    await Promise.all([generateKey(hostKey), generateKey(clientKey)]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`), { mode: 0o600 });
    if (process.getuid?.() === 0) await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        'PidFile none',
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The key files live in a mkdtemp dir under /tmp (world-writable): the modes check would refuse them.
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        `AllowUsers ${userInfo().username}`,
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${(await readFile(`${hostKey}.pub`, 'utf8')).trim()}\n`);
    // sshd re-executes itself and therefore must be started by its absolute path.
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const sshd = new Sshd(child, port, clientKey, knownHosts);
    try {
      await sshd.waitForListening(options.timeoutMs ?? 10_000);
    } catch (err) {
      await sshd.stop();
      throw err;
    }
    return sshd;
  }

  /** What sshd logged so far (first 64 KiB): connections, authentication failures. */
  get log(): string {
    return this.output;
  }

  /** Kills sshd (and with it any session process it still has) and waits until it is gone. */
  async stop(): Promise<void> {
    if (!this.done && this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    if (this.process.pid !== undefined) await this.exited;
  }

  private waitForListening(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.process.stderr?.off('data', check);
        if (err === undefined) resolve();
        else reject(err);
      };
      const check = () => {
        if (this.output.includes(`Server listening on 127.0.0.1 port ${this.port}`)) finish();
      };
      const timer = setTimeout(() => finish(new Error(`sshd not listening within ${timeoutMs} ms: ${this.output}`)), timeoutMs);
      this.process.stderr?.on('data', check);
      this.process.once('error', (err) => finish(err));
      this.exited.then(
        (exit) => finish(new Error(`sshd exited (${exit.code ?? exit.signal}) during startup: ${this.output}`)),
        (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
      );
      check();
    });
  }
}

/** Generates an ed25519 key pair without passphrase at `path` (+ `.pub`). */
export async function generateKey(path: string): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bulwark-test', '-f', path], { timeout: 10_000 });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
