/**
 * Bulwark in the bench: the embedded deployment `bulwark up` starts (nats-server, controller,
 * storages, agent: each a real process, gRPC on 127.0.0.1), protecting the bench image as a raw
 * disk of one VM. Jobs go through the controller's gRPC API as the CLI sends them; a scenario's
 * seconds run from StartBackup/StartRestore to the controller reporting the job finished.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ControllerApi } from '../controller/cli/controller-api.js';
import { startEmbedded, UpConfig, type EmbeddedDeployment } from '../controller/cli/up/up-command.js';
import { BackupResult, RestoreResult } from '../shared/messages/results.js';
import type { Job__Output } from '../shared/rpc/generated/bulwark/v1/Job.js';
import { fileSha256 } from '../test/helpers/files.js';
import type { BenchImage } from './bench-image.js';
import { scenarioResult, type ScenarioResult, type ToolRun } from './bench-report.js';
import { allocatedTreeBytes, cpuSeconds, flushDirtyPages, peakRssBytes, resetPeakRss, secondsSince } from './measure.js';

const VM = 'bench-vm';
const DISK = 'disk0';

/** The deployment's config: the bench image as the raw disk of one VM. */
function upConfig(imagePath: string, encryption: boolean): UpConfig {
  return UpConfig.parse({ demoHypervisor: 'files', demoVms: [], vms: [{ name: VM, disks: [{ name: DISK, path: imagePath }] }], encryption, logLevel: 'warn' });
}

async function finishedJob(api: ControllerApi, started: Job__Output): Promise<Job__Output> {
  for (;;) {
    for await (const job of api.watchJob(started.id)) {
      if (job.state === 'succeeded') return job;
      if (job.state === 'failed') throw new Error(`bulwark ${started.kind} job ${started.id} failed: ${job.error}`);
    }
  }
}

function resultOf<S extends z.ZodType>(schema: S, job: Job__Output): z.output<S> {
  return schema.parse(JSON.parse(job.resultJson));
}

/** Runs full, incremental and restore on a fresh deployment under `dir`; encrypted unless told otherwise. */
export async function benchBulwark(dir: string, image: BenchImage, say: (line: string) => void, encryption = true): Promise<ToolRun> {
  mkdirSync(dir, { recursive: true });
  const imagePath = join(dir, `${DISK}.img`);
  await image.copyTo(imagePath);
  say(`bulwark: starting the embedded deployment (${encryption ? 'encrypted' : 'unencrypted'})`);
  const deployment = await startEmbedded(join(dir, 'up'), upConfig(imagePath, encryption), () => undefined);
  const api = new ControllerApi({ address: deployment.controllerAddress, source: 'bench', token: deployment.adminToken });
  try {
    await api.connect();
    const datastoreDir = join(deployment.dataDir, 'storage-a', 'datastore');
    const processes = pidsOf(deployment);
    const results: ScenarioResult[] = [];
    let rssResettable = true;

    const measure = async (scenario: ScenarioResult['scenario'], start: () => Promise<Job__Output>) => {
      flushDirtyPages();
      for (const pid of Object.values(processes)) rssResettable = resetPeakRss(pid) && rssResettable;
      say(`bulwark: ${scenario}`);
      const cpuBefore = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
      const t0 = process.hrtime.bigint();
      const job = await finishedJob(api, await start());
      const seconds = secondsSince(t0);
      const peakRssByProcess = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, peakRssBytes(pid)]));
      const cpuSecondsByProcess = Object.fromEntries(
        Object.entries(processes).map(([name, pid]) => [name, Math.round((cpuSeconds(pid) - (cpuBefore[name] ?? 0)) * 100) / 100]),
      );
      return { job, seconds, peakRssByProcess, cpuSecondsByProcess, peakRssBytes: peakRssByProcess.agent ?? 0 };
    };

    const full = await measure('full', () => api.startBackup({ vm: VM, mode: 'full' }));
    const fullResult = resultOf(BackupResult, full.job);
    results.push(scenarioResult(image.sizeBytes, {
      tool: 'bulwark',
      scenario: 'full',
      seconds: full.seconds,
      storedBytes: allocatedTreeBytes(datastoreDir),
      peakRssBytes: full.peakRssBytes,
      peakRssByProcess: full.peakRssByProcess,
      cpuSecondsByProcess: full.cpuSecondsByProcess,
      jobSeconds: fullResult.durationMs / 1000,
      bytesSent: fullResult.bytesSent,
    }));

    await image.change(imagePath);
    const inc = await measure('incremental', () => api.startBackup({ vm: VM, mode: 'incremental' }));
    const incResult = resultOf(BackupResult, inc.job);
    results.push(scenarioResult(image.sizeBytes, {
      tool: 'bulwark',
      scenario: 'incremental',
      seconds: inc.seconds,
      storedBytes: allocatedTreeBytes(datastoreDir),
      peakRssBytes: inc.peakRssBytes,
      peakRssByProcess: inc.peakRssByProcess,
      cpuSecondsByProcess: inc.cpuSecondsByProcess,
      jobSeconds: incResult.durationMs / 1000,
      bytesSent: incResult.bytesSent,
    }));

    const target = join(dir, 'restore');
    const restore = await measure('restore', () => api.startRestore({ backupId: incResult.backup.backupId, targetDir: target }));
    const syncSeconds = flushDirtyPages();
    const restoreResult = resultOf(RestoreResult, restore.job);
    const restored = restoreResult.disks.find((d) => d.name === DISK)?.path ?? join(target, `${DISK}.img`);
    results.push(scenarioResult(image.sizeBytes, {
      tool: 'bulwark',
      scenario: 'restore',
      seconds: restore.seconds,
      storedBytes: allocatedTreeBytes(datastoreDir),
      peakRssBytes: restore.peakRssBytes,
      peakRssByProcess: restore.peakRssByProcess,
      cpuSecondsByProcess: restore.cpuSecondsByProcess,
      jobSeconds: restoreResult.durationMs / 1000,
      identical: (await fileSha256(restored)) === image.changedSha256,
      syncSeconds,
    }));

    const encrypted = datastoreEncrypted(datastoreDir);
    return {
      tool: 'bulwark',
      version: packageVersion(),
      settings: {
        encrypted,
        ...(encrypted === encryption ? {} : { encryptionNote: 'requested, but the datastore has no key fingerprint' }),
        compression: 'zstd level 1 (agent)',
        transport: 'gRPC on 127.0.0.1, the embedded deployment of bulwark up',
        timing: 'StartBackup/StartRestore to the controller reporting the job finished (jobSeconds: the agent\'s own durationMs)',
        peakRssScope: rssResettable ? 'per scenario (VmHWM reset before each)' : 'process lifetime (VmHWM could not be reset)',
        storedBytesOf: 'storage-a datastore directory, allocated bytes of every file',
      },
      results,
    };
  } finally {
    api.close();
    say('bulwark: stopping the deployment');
    await deployment.stop();
  }
}

function pidsOf(deployment: EmbeddedDeployment): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [label, name] of [['agent', 'agent-1'], ['storage', 'storage-a']] as const) {
    const pid = deployment.processes.get(name)?.pid;
    if (pid === undefined) throw new Error(`the embedded deployment has no running ${name}`);
    pids[label] = pid;
  }
  return pids;
}

function datastoreEncrypted(datastoreDir: string): boolean {
  const file = join(datastoreDir, 'datastore.json');
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  return /"keyFingerprint"\s*:\s*"[0-9a-f]+"/.test(text);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
