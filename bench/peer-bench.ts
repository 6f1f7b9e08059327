/**
 * The peers, restic and borg from Debian's packages, on the same image and scenarios as Bulwark:
 * a local encrypted repository with each tool's own defaults (restic: repository format and
 * compression of its version; borg: repokey, lz4), a full backup, a second backup after the
 * change, and a restore of the latest snapshot, each run under /usr/bin/time -v.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileSha256 } from '../test/helpers/files.js';
import type { BenchImage } from './bench-image.js';
import { scenarioResult, type ScenarioName, type ScenarioResult, type ToolName, type ToolRun } from './bench-report.js';
import { allocatedTreeBytes, flushDirtyPages, runChecked, timeCommand, type TimedCommand } from './measure.js';

const PASSWORD = 'bulwark-bench';

/** command -> Debian package, for the peers asked for. */
function neededPackages(tools: readonly ToolName[]): Map<string, string> {
  const need = new Map<string, string>();
  if (tools.includes('restic')) need.set('restic', 'restic');
  if (tools.includes('borg')) need.set('borg', 'borgbackup');
  if (need.size > 0) need.set('/usr/bin/time', 'time');
  return need;
}

function present(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs the peers' Debian packages when missing (as root); otherwise returns the command an
 * operator must run. Returns undefined when everything is there.
 */
export function ensurePeers(tools: readonly ToolName[], say: (line: string) => void): string | undefined {
  const missing = [...neededPackages(tools)].filter(([command]) => !present(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return undefined;
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) return `apt-get update && ${install}`;
  say(`installing ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('sh', ['-c', install], { stdio: 'ignore', env });
  if (result.status !== 0) result = spawnSync('sh', ['-c', `apt-get update -qq && ${install}`], { stdio: 'ignore', env });
  if (result.status !== 0) throw new Error(`could not install ${missing.join(', ')}: ${install} exited ${result.status}`);
  return undefined;
}

interface PeerSteps {
  readonly tool: ToolName;
  readonly version: string;
  readonly settings: Record<string, unknown>;
  readonly repo: string;
  backup(label: 'full' | 'incremental', timeReport: string): Promise<TimedCommand>;
  /** Restores the latest backup under `target`; returns the restored image's path and timing. */
  restore(target: string, timeReport: string): Promise<{ timed: TimedCommand; path: string }>;
}

async function runPeer(dir: string, image: BenchImage, imagePath: string, steps: PeerSteps, say: (line: string) => void): Promise<ToolRun> {
  const results: ScenarioResult[] = [];
  const row = (scenario: ScenarioName, timed: TimedCommand, restore?: { identical: boolean; syncSeconds: number }) =>
    scenarioResult(image.sizeBytes, {
      tool: steps.tool,
      scenario,
      seconds: timed.seconds,
      storedBytes: allocatedTreeBytes(steps.repo),
      peakRssBytes: timed.peakRssBytes,
      peakRssByProcess: { [steps.tool]: timed.peakRssBytes },
      cpuSecondsByProcess: { [steps.tool]: timed.cpuSeconds },
      ...restore,
    });
  for (const scenario of ['full', 'incremental'] as const) {
    if (scenario === 'incremental') await image.change(imagePath);
    flushDirtyPages();
    say(`${steps.tool}: ${scenario}`);
    results.push(row(scenario, await steps.backup(scenario, join(dir, `time-${scenario}.txt`))));
  }
  const target = join(dir, 'restore');
  mkdirSync(target, { recursive: true });
  flushDirtyPages();
  say(`${steps.tool}: restore`);
  const { timed, path } = await steps.restore(target, join(dir, 'time-restore.txt'));
  const syncSeconds = flushDirtyPages();
  results.push(row('restore', timed, { identical: (await fileSha256(path)) === image.changedSha256, syncSeconds }));
  return { tool: steps.tool, version: steps.version, settings: steps.settings, results };
}

/** restic: `restic init`, `restic backup <image>` twice, `restic restore latest --target`. */
export async function benchRestic(dir: string, image: BenchImage, say: (line: string) => void): Promise<ToolRun> {
  mkdirSync(dir, { recursive: true });
  const imagePath = join(dir, 'disk0.img');
  await image.copyTo(imagePath);
  const repo = join(dir, 'repo');
  const env = { RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: join(dir, 'cache') };
  const version = (await runChecked('restic', ['version'], { env })).trim();
  await runChecked('restic', ['init'], { env });
  const config = JSON.parse(await runChecked('restic', ['cat', 'config'], { env })) as { version?: number };
  return runPeer(dir, image, imagePath, {
    tool: 'restic',
    version,
    repo,
    settings: {
      encrypted: true,
      repositoryVersion: config.version ?? null,
      compression: config.version === 2 ? 'auto (zstd, default)' : 'none (repository version 1)',
      chunking: 'content-defined (rabin)',
      cache: 'RESTIC_CACHE_DIR in the run dir, not counted in storedBytes',
    },
    backup: (_label, report) => timeCommand('restic', ['backup', '--quiet', '--host', 'bench', imagePath], report, { env }),
    restore: async (target, report) => ({
      timed: await timeCommand('restic', ['restore', 'latest', '--target', target], report, { env }),
      path: join(target, imagePath),
    }),
  }, say);
}

/** borg: `borg init --encryption=repokey`, `borg create` twice, `borg extract`. */
export async function benchBorg(dir: string, image: BenchImage, say: (line: string) => void): Promise<ToolRun> {
  mkdirSync(dir, { recursive: true });
  const imagePath = join(dir, 'disk0.img');
  await image.copyTo(imagePath);
  const repo = join(dir, 'repo');
  const env = { BORG_PASSPHRASE: PASSWORD, BORG_BASE_DIR: join(dir, 'base') };
  const version = (await runChecked('borg', ['--version'], { env })).trim();
  await runChecked('borg', ['init', '--encryption=repokey', repo], { env });
  // Relative paths: borg stores `disk0.img`, and extract puts it under the working directory.
  return runPeer(dir, image, imagePath, {
    tool: 'borg',
    version,
    repo,
    settings: {
      encrypted: true,
      encryption: 'repokey',
      compression: 'lz4 (default)',
      chunking: 'content-defined (buzhash, default parameters)',
      cache: 'BORG_BASE_DIR in the run dir, not counted in storedBytes',
    },
    backup: (label, report) => timeCommand('borg', ['create', `${repo}::${label}`, 'disk0.img'], report, { env, cwd: dir }),
    restore: async (target, report) => ({
      timed: await timeCommand('borg', ['extract', `${repo}::incremental`], report, { env, cwd: target }),
      path: join(target, 'disk0.img'),
    }),
  }, say);
}
