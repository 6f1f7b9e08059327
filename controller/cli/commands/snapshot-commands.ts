import type { Command } from 'commander';
import { z } from 'zod';
import { OWN_SNAPSHOT_PREFIX, SnapshotName } from '../../../shared/messages/jobs.js';
import { SnapshotResult } from '../../../shared/messages/results.js';
import type { Job__Output } from '../../../shared/rpc/generated/bulwark/v1/Job.js';
import { progressFlagOf, withController } from '../cli-context.js';
import type { ControllerApi } from '../controller-api.js';
import { reportStartedJob } from '../job-follower.js';
import { parseVmName, zodParser } from '../option-parsers.js';
import { formatTime, printJob, printTable } from '../output.js';

const parseSnapshotName = zodParser(SnapshotName);
const parseNewSnapshotName = zodParser(
  SnapshotName.refine((n) => !n.startsWith(OWN_SNAPSHOT_PREFIX), `must not start with "${OWN_SNAPSHOT_PREFIX}" (reserved for the names Bulwark makes)`),
);
const parseSnapshotKeep = zodParser(
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000')),
);

interface JobOptions {
  wait?: boolean;
  json?: boolean;
}

/**
 * `bulwark snapshot create|list|remove|revert`: disk snapshots a VM's hypervisor keeps (qemu:
 * qcow2 internal snapshots, one instant for all disks); nothing is exported. Each is a job at
 * the VM's agent.
 */
export function registerSnapshotCommands(program: Command): void {
  const snapshot = program
    .command('snapshot')
    .description("manage a VM's disk snapshots kept by its hypervisor (qemu: qcow2 internal snapshots); no data leaves the host");

  snapshot
    .command('create')
    .description('snapshot every disk of a running VM at one instant')
    .argument('<vm>', 'the VM', parseVmName)
    .option('--name <name>', `the snapshot's name (default: ${OWN_SNAPSHOT_PREFIX}<ULID>)`, parseNewSnapshotName)
    .option('--keep <n>', `afterwards keep the n newest ${OWN_SNAPSHOT_PREFIX}<ULID> snapshots and delete older ones (named ones always stay)`, parseSnapshotKeep)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: JobOptions & { name?: string; keep?: number }, cmd: Command) => {
      await start(cmd, { vm, op: 'create', name: opts.name ?? '', keep: opts.keep ?? 0 }, opts);
    });

  snapshot
    .command('list')
    .description("list a VM's snapshots (read from its images when the VM is stopped)")
    .argument('<vm>', 'the VM', parseVmName)
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: JobOptions, cmd: Command) => {
      await start(cmd, { vm, op: 'list', name: '', keep: 0 }, { ...opts, wait: true });
    });

  snapshot
    .command('remove')
    .description('delete a snapshot from every disk of the VM')
    .argument('<vm>', 'the VM', parseVmName)
    .argument('<name>', 'the snapshot (see `bulwark snapshot list`)', parseSnapshotName)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (vm: string, name: string, opts: JobOptions, cmd: Command) => {
      await start(cmd, { vm, op: 'remove', name, keep: 0 }, opts);
    });

  snapshot
    .command('revert')
    .description('set every disk of the VM back to a snapshot; qemu: stop the VM first (QEMU must release the images)')
    .argument('<vm>', 'the VM', parseVmName)
    .argument('<name>', 'the snapshot (see `bulwark snapshot list`)', parseSnapshotName)
    .option('--wait', 'follow the job until it is finished')
    .option('--json', 'print JSON')
    .action(async (vm: string, name: string, opts: JobOptions, cmd: Command) => {
      await start(cmd, { vm, op: 'revert', name, keep: 0 }, opts);
    });
}

async function start(cmd: Command, req: Parameters<ControllerApi['startSnapshot']>[0], opts: JobOptions): Promise<void> {
  await withController(cmd, async (api) => {
    const job = await api.startSnapshot(req);
    await reportStartedJob(api, job, { wait: opts.wait === true, json: opts.json === true, print: printSnapshots, progress: progressFlagOf(cmd) });
  });
}

/** What a finished snapshot job did, then the VM's snapshots as a table. */
function printSnapshots(job: Job__Output): void {
  const parsed = SnapshotResult.safeParse(job.resultJson ? JSON.parse(job.resultJson) : null);
  if (!parsed.success) {
    printJob(job);
    return;
  }
  const r = parsed.data;
  if (r.created !== null) console.log(`created ${r.created}`);
  if (r.removed.length > 0) console.log(`removed ${r.removed.join(', ')}`);
  if (r.reverted !== null) console.log(`reverted every disk of ${r.vm} to ${r.reverted}`);
  if (r.note !== null) console.log(`note: ${r.note}`);
  if (!r.vmRunning) console.log(`${r.vm} is not running: read from its disk images`);
  printTable(
    ['SNAPSHOT', 'CREATED', 'BY', 'DISKS'],
    r.snapshots.map((s) => [s.name, formatTime(s.createdAt), s.madeByBulwark ? 'bulwark' : 'user', s.disks.map((d) => d.disk).join(', ')]),
    `no snapshots of ${r.vm}`,
  );
  for (const i of r.incomplete) {
    console.log(`incomplete: ${i.name} is on ${i.presentOn.join(', ')} but not on ${i.missingOn.join(', ')} (bulwark snapshot remove ${r.vm} ${i.name})`);
  }
}
