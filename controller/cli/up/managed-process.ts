/**
 * Child processes that `bulwark up` (and the scenario tests) start and stop: a daemon is ready
 * when it has written its ready file; stop is SIGTERM with a deadline, kill is SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root, for the daemons' entry points. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ManagedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** The file whose appearance means "ready"; removed before each start. */
  readonly readyFile: string;
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly opts: ManagedProcessOptions) {}

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits for its ready file; returns the file's text. */
  async start(): Promise<string> {
    rmSync(this.opts.readyFile, { force: true });
    const log = createWriteStream(this.opts.logFile, { flags: 'a' });
    const child = spawn(this.opts.command, this.opts.args, {
      cwd: repoRoot,
      env: { ...process.env, ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (existsSync(this.opts.readyFile)) {
        const text = readFileSync(this.opts.readyFile, 'utf8');
        if (text.trim().length > 0) return text;
      }
      if (!this.running) {
        throw new Error(`${this.opts.name} exited with code ${child.exitCode ?? child.signalCode} before it was ready; see ${this.opts.logFile}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.opts.name} was not ready within ${this.opts.readyTimeoutMs ?? 30_000} ms; see ${this.opts.logFile}`);
      }
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running || !this.child) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL now; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.running || !this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Resolves with the exit code when the process ends. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}

/**
 * Node with tsx, to run a TypeScript entry point of this repository. BULWARK_DAEMON_NODE_ARGS adds
 * Node flags to every daemon (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a bench run).
 */
export function tsxCommand(entry: string, args: readonly string[]): { command: string; args: string[] } {
  const extra = (process.env.BULWARK_DAEMON_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  return { command: process.execPath, args: [...extra, '--import', 'tsx', `${repoRoot}${entry}`, ...args] };
}
