/**
 * How the bench measures, the same way for every tool: wall time around the operation, bytes a
 * repository really occupies on disk (allocated blocks of every file under it, as `du` counts),
 * and peak resident set size (VmHWM of a running daemon, reset before each scenario; maxrss of
 * a child reported by `/usr/bin/time -v`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes every file under `dir` occupies on disk (allocated blocks, holes excluded). */
export function allocatedTreeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += allocatedTreeBytes(path);
    else if (entry.isFile()) total += statSync(path).blocks * 512;
  }
  return total;
}

/** Peak resident set size of a running process since its last reset (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) a running process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, closed by the last ')'): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Resets a process's peak RSS to its current RSS (Linux clear_refs "5"), so the next reading
 * covers one scenario only. Returns false where the kernel refuses; the peak is then lifetime.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Flushes dirty pages, so one step does not pay for the previous step's writeback; returns its seconds. */
export function flushDirtyPages(): number {
  const start = process.hrtime.bigint();
  spawnSync('sync', { stdio: 'ignore' });
  return secondsSince(start);
}

/** Seconds elapsed since `startNs` (process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

export interface TimedCommand {
  readonly seconds: number;
  readonly peakRssBytes: number;
  /** User plus system CPU seconds of the command. */
  readonly cpuSeconds: number;
  readonly stdout: string;
}

export interface CommandOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/**
 * Runs `command` under `/usr/bin/time -v`: wall seconds measured here, peak RSS from time's
 * report. Throws with the command's output when it fails.
 */
export async function timeCommand(command: string, args: readonly string[], reportFile: string, opts: CommandOptions = {}): Promise<TimedCommand> {
  const start = process.hrtime.bigint();
  const { code, stdout, stderr } = await run('/usr/bin/time', ['-v', '-o', reportFile, command, ...args], opts);
  const seconds = secondsSince(start);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout}\n${stderr}`);
  const report = readFileSync(reportFile, 'utf8');
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (!match) throw new Error(`no maximum resident set size in ${reportFile}`);
  const user = /User time \(seconds\): ([\d.]+)/.exec(report);
  const system = /System time \(seconds\): ([\d.]+)/.exec(report);
  if (!user || !system) throw new Error(`no user and system time in ${reportFile}`);
  return { seconds, peakRssBytes: Number(match[1]) * 1024, cpuSeconds: Number(user[1]) + Number(system[1]), stdout };
}

/** Runs a command to completion; throws when it fails. */
export async function runChecked(command: string, args: readonly string[], opts: CommandOptions = {}): Promise<string> {
  const { code, stdout, stderr } = await run(command, args, opts);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout}\n${stderr}`);
  return stdout;
}

function run(command: string, args: readonly string[], opts: CommandOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
