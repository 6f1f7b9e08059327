/**
 * What the bench reports: one row per tool and scenario, and the ratios the targets are
 * stated in (speed: the peer's seconds over Bulwark's; stored: Bulwark's bytes over the peer's).
 */
import Table from 'cli-table3';

export type ToolName = 'bulwark' | 'restic' | 'borg';
export const TOOL_NAMES: readonly ToolName[] = ['bulwark', 'restic', 'borg'];
export type ScenarioName = 'full' | 'incremental' | 'restore';

export interface ScenarioResult {
  readonly tool: ToolName;
  readonly scenario: ScenarioName;
  /** Wall seconds, from starting the operation to its end as the caller sees it. */
  readonly seconds: number;
  /** Image bytes (1e6 per MB) over seconds: every scenario covers the whole image. */
  readonly mbPerSec: number;
  /** Allocated bytes of the repository (datastore) after this scenario. */
  readonly storedBytes: number;
  /** Peak RSS of the tool's client-side process during this scenario (Bulwark: the agent). */
  readonly peakRssBytes: number;
  /** Peak RSS of every process of the tool during this scenario. */
  readonly peakRssByProcess: Record<string, number>;
  /** CPU seconds (user + system) of every process of the tool during this scenario. */
  readonly cpuSecondsByProcess: Record<string, number>;
  /** Restore only: the restored image is byte for byte the image that was backed up. */
  readonly identical?: boolean;
  /**
   * Restore only: seconds of a `sync` run right after the restore, i.e. what it costs to make the
   * restored image durable when the tool did not fsync it (Bulwark fsyncs before it reports).
   */
  readonly syncSeconds?: number;
  /** Bulwark only: the job's own duration (agent side, excludes dispatch). */
  readonly jobSeconds?: number;
  /** Bulwark only: chunk bytes sent to storage. */
  readonly bytesSent?: number;
  /** With --runs > 1: each run's seconds; `seconds` is their median. */
  readonly runSeconds?: number[];
}

export interface ToolRun {
  readonly tool: ToolName;
  readonly version: string;
  /** How the tool was set up: encryption, compression, repository format. */
  readonly settings: Record<string, unknown>;
  readonly results: ScenarioResult[];
}

/** Builds a result row; mbPerSec from the image size. */
export function scenarioResult(imageBytes: number, row: Omit<ScenarioResult, 'mbPerSec'>): ScenarioResult {
  const { tool, scenario, seconds, jobSeconds, syncSeconds, ...rest } = row;
  return {
    tool,
    scenario,
    seconds: round(seconds, 3),
    mbPerSec: round(imageBytes / 1e6 / seconds, 1),
    ...rest,
    ...(jobSeconds === undefined ? {} : { jobSeconds: round(jobSeconds, 3) }),
    ...(syncSeconds === undefined ? {} : { syncSeconds: round(syncSeconds, 3) }),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * One tool's repeated runs as one: median seconds (and jobSeconds, syncSeconds, CPU seconds), the highest
 * peak RSS, the last run's stored bytes, identical only when every run restored identically.
 */
export function mergeRuns(imageBytes: number, runs: readonly ToolRun[]): ToolRun {
  const [first] = runs;
  if (!first) throw new Error('mergeRuns: no runs');
  if (runs.length === 1) return first;
  const results = first.results.map((row) => {
    const same = runs.map((run) => run.results.find((r) => r.scenario === row.scenario) ?? row);
    const last = same[same.length - 1] ?? row;
    const optionalMedian = (pick: (r: ScenarioResult) => number | undefined) => {
      const xs = same.map(pick).filter((x): x is number => x !== undefined);
      return xs.length === same.length ? median(xs) : undefined;
    };
    const peakRssByProcess = Object.fromEntries(
      Object.keys(row.peakRssByProcess).map((name) => [name, Math.max(...same.map((r) => r.peakRssByProcess[name] ?? 0))]),
    );
    const cpuSecondsByProcess = Object.fromEntries(
      Object.keys(row.cpuSecondsByProcess).map((name) => [name, round(median(same.map((r) => r.cpuSecondsByProcess[name] ?? 0)), 2)]),
    );
    const jobSeconds = optionalMedian((r) => r.jobSeconds);
    const syncSeconds = optionalMedian((r) => r.syncSeconds);
    const identical = row.identical === undefined ? undefined : same.every((r) => r.identical === true);
    return scenarioResult(imageBytes, {
      tool: row.tool,
      scenario: row.scenario,
      seconds: median(same.map((r) => r.seconds)),
      storedBytes: last.storedBytes,
      peakRssBytes: Math.max(...same.map((r) => r.peakRssBytes)),
      peakRssByProcess,
      cpuSecondsByProcess,
      ...(identical === undefined ? {} : { identical }),
      ...(jobSeconds === undefined ? {} : { jobSeconds }),
      ...(syncSeconds === undefined ? {} : { syncSeconds }),
      ...(last.bytesSent === undefined ? {} : { bytesSent: last.bytesSent }),
      runSeconds: same.map((r) => r.seconds),
    });
  });
  return { ...first, results };
}

function find(results: readonly ScenarioResult[], tool: ToolName, scenario: ScenarioName): ScenarioResult | undefined {
  return results.find((r) => r.tool === tool && r.scenario === scenario);
}

/**
 * Bulwark against each peer present: full/incremental/restore speed ratios (>1: Bulwark is
 * faster) and stored-bytes ratios after both backups (<1: Bulwark stores less).
 */
export function computeRatios(results: readonly ScenarioResult[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  const peers: [ToolName, string][] = [
    ['restic', 'Restic'],
    ['borg', 'Borg'],
  ];
  for (const [peer, label] of peers) {
    for (const scenario of ['full', 'incremental', 'restore'] as const) {
      const ours = find(results, 'bulwark', scenario);
      const theirs = find(results, peer, scenario);
      if (ours && theirs && ours.seconds > 0) ratios[`${scenario}Vs${label}`] = round(theirs.seconds / ours.seconds, 2);
    }
    const ours = find(results, 'bulwark', 'incremental');
    const theirs = find(results, peer, 'incremental');
    if (ours && theirs && theirs.storedBytes > 0) ratios[`storedVs${label}`] = round(ours.storedBytes / theirs.storedBytes, 3);
  }
  return ratios;
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** The readable table printed without --json. */
export function resultTable(results: readonly ScenarioResult[]): string {
  const table = new Table({
    head: ['tool', 'scenario', 'seconds', 'MB/s', 'stored MiB', 'peak RSS MiB (per process)', 'CPU s (per process)', 'restore'],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    const perProcess = Object.entries(r.peakRssByProcess)
      .map(([name, bytes]) => `${name} ${mib(bytes)}`)
      .join(', ');
    const cpu = Object.entries(r.cpuSecondsByProcess)
      .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`)
      .join(', ');
    const restore = r.identical === undefined ? '' : r.identical ? 'identical' : 'WRONG DATA';
    table.push([r.tool, r.scenario, r.seconds.toFixed(2), r.mbPerSec.toFixed(1), mib(r.storedBytes), perProcess, cpu, restore]);
  }
  return table.toString();
}
