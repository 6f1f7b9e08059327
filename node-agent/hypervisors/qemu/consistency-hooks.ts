/**
 * Runs a pre- or post-snapshot hook (consistency-config.ts) as a child process: a host hook is
 * its argv run directly, a guest-ssh hook is the system `ssh` client in batch mode with strict
 * host key checking. Each runs in a process group of its own, killed whole at the timeout.
 * The outcome is data (exit code, signal, timeout, the tail of stderr), never a throw.
 */
import { spawn } from 'node:child_process';
import type { ConsistencyHook, GuestSshHook } from './consistency-config.js';

/** How a hook ended. */
export interface HookOutcome {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Why the process could not be started (ENOENT, EACCES), or null. */
  readonly spawnError: string | null;
  /** The last bytes of its stderr, whitespace collapsed. */
  readonly stderrTail: string;
}

const STDERR_KEEP_BYTES = 4096;
const NOTE_STDERR_CHARS = 200;
/** After the exit, how long stdio may stay open (a background child holding it) before we stop reading. */
const STDIO_GRACE_MS = 500;

/** The argv that runs a hook: its own for a host hook, the ssh client's for a guest-ssh hook. */
export function hookArgv(hook: ConsistencyHook): readonly string[] {
  return hook.where === 'host' ? hook.command : sshArgv(hook);
}

function sshArgv(hook: GuestSshHook): string[] {
  return [
    'ssh',
    // No user or system ssh_config: the hook's own settings are the whole story.
    '-F', '/dev/null',
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${hook.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'LogLevel=ERROR',
    '-o', `ConnectTimeout=${Math.max(1, Math.ceil(hook.timeoutMs / 1000))}`,
    ...(hook.hostKeyAlias === undefined ? [] : ['-o', `HostKeyAlias=${hook.hostKeyAlias}`]),
    '-i', hook.identityFile,
    '-p', String(hook.port),
    '-l', hook.user,
    '--', hook.host,
    hook.command,
  ];
}

/** Runs a hook to its end or its timeout; `env` is added to the agent's environment (host hooks only: ssh does not pass it on). */
export function runHook(hook: ConsistencyHook, env: Readonly<Record<string, string>>): Promise<HookOutcome> {
  const [program, ...args] = hookArgv(hook);
  const started = performance.now();
  return new Promise((resolve) => {
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;
    const child = spawn(program ?? '', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, ...env },
    });
    const finish = (outcome: Omit<HookOutcome, 'durationMs' | 'stderrTail' | 'timedOut' | 'ok'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ok = !timedOut && outcome.spawnError === null && outcome.exitCode === 0;
      resolve({ ...outcome, ok, timedOut, durationMs: Math.round(performance.now() - started), stderrTail: tail(stderr) });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, hook.timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEEP_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEEP_BYTES);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish({ exitCode: null, signal: null, spawnError: err.code ?? err.message });
    });
    let grace: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      // A grandchild that inherited stderr may keep it open for good: stop reading after a grace period.
      grace = setTimeout(() => child.stderr.destroy(), STDIO_GRACE_MS);
    });
    // 'close' comes after the exit and the end of stderr, so the tail is complete.
    child.once('close', (exitCode, signal) => {
      clearTimeout(grace);
      finish({ exitCode, signal, spawnError: null });
    });
  });
}

/** A hook's failure in a few words for a log line or a manifest note: `exit 3 (stderr: …)`. */
export function describeHookFailure(outcome: HookOutcome, timeoutMs: number): string {
  const stderr = outcome.stderrTail === '' ? '' : ` (stderr: ${outcome.stderrTail.slice(-NOTE_STDERR_CHARS)})`;
  if (outcome.spawnError !== null) return `could not start: ${outcome.spawnError}`;
  if (outcome.timedOut) return `timed out after ${timeoutMs} ms, killed${stderr}`;
  if (outcome.signal !== null) return `killed by ${outcome.signal}${stderr}`;
  return `exit ${outcome.exitCode ?? '?'}${stderr}`;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

function tail(stderr: Buffer): string {
  return stderr.toString('utf8').replace(/\s+/g, ' ').trim();
}
