import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { startEmbedded, UpConfig, type EmbeddedDeployment } from '../../controller/cli/up/up-command.js';
import { runCli } from './cli.js';

/** A job as `bulwark … --wait --json` prints it. */
export interface JobView {
  id: string;
  kind: string;
  state: string;
  error?: string;
  result?: unknown;
}

/** The embedded deployment of `bulwark up` in a temp dir, with small demo disks (raw files unless told qemu). */
export async function startTestDeployment(
  demoVms: UpConfig['demoVms'],
  demoHypervisor: UpConfig['demoHypervisor'] = 'files',
): Promise<{ deployment: EmbeddedDeployment; env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-it-'));
  const config = UpConfig.parse({ demoHypervisor, demoVms, logLevel: process.env.BULWARK_TEST_LOG_LEVEL ?? 'info' });
  const deployment = await startEmbedded(dir, config, () => undefined);
  return {
    deployment,
    env: { BULWARK_HOME: dir },
    cleanup: async () => {
      await deployment.stop();
      if (process.env.BULWARK_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a job command with --wait --json; returns the finished job's result, checked by `schema`. */
export async function runJob<S extends z.ZodType>(schema: S, args: readonly string[], env: Record<string, string>): Promise<z.output<S>> {
  return schema.parse((await runJobView(args, env)).result);
}

/** Runs a job command with --wait --json and returns the finished job; throws unless it succeeded. */
export async function runJobView(args: readonly string[], env: Record<string, string>): Promise<JobView> {
  const res = await runCli([...args, '--wait', '--json'], env);
  let job: JobView;
  try {
    job = JSON.parse(res.stdout) as JobView;
  } catch {
    throw new Error(`bulwark ${args.join(' ')} exited ${res.code} without JSON:\n${res.stdout}\n${res.stderr}`);
  }
  if (res.code !== 0 || job.state !== 'succeeded') {
    throw new Error(`bulwark ${args.join(' ')} → ${job.state} (${res.code}): ${job.error ?? ''}\n${res.stderr}`);
  }
  return job;
}
