import type { Command } from 'commander';
import { SyncResult } from '../../../shared/messages/results.js';
import type { Job__Output } from '../../../shared/rpc/generated/bulwark/v1/Job.js';
import type { ReplicationPairStatus__Output } from '../../../shared/rpc/generated/bulwark/v1/ReplicationPairStatus.js';
import { withController } from '../cli-context.js';
import { formatBytes, formatDuration, formatTime, jobJson, printJson, printTable } from '../output.js';

/** `bulwark replication`. */
export function registerReplicationCommand(program: Command): void {
  program
    .command('replication')
    .description("replication pairs, their last sync, and each VM's lag: how far the replica is behind the primary")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { now, pairs } = await api.getReplicationStatus();
        if (opts.json) {
          printJson({ now, pairs: pairs.map(pairJson) });
          return;
        }
        if (pairs.length === 0) {
          console.log('no replication configured and no sync run yet (controller config: replication)');
          return;
        }
        pairs.forEach((pair, i) => {
          if (i > 0) console.log('');
          printPair(pair);
        });
      });
    });
}

/** A pair as `--json` prints it: its last sync job with params and result as objects. */
export function pairJson(pair: ReplicationPairStatus__Output): Record<string, unknown> {
  return { ...pair, lastSync: pair.lastSync ? jobJson(pair.lastSync) : null };
}

/** "pull, every 1h, at most 10.0 MiB/s, 4 transfers" */
export function pairSettings(pair: ReplicationPairStatus__Output): string {
  const parts = [
    pair.mode,
    pair.intervalMs > 0 ? `every ${formatDuration(pair.intervalMs)}` : 'on demand',
    pair.rateBytesPerSecond > 0 ? `at most ${formatBytes(pair.rateBytesPerSecond)}/s` : 'no rate limit',
  ];
  if (pair.concurrency > 0) parts.push(`${pair.concurrency} transfers in flight`);
  if (!pair.configured) parts.push('not in the config (seen in past syncs)');
  return parts.join(', ');
}

/** "job 01J… succeeded 2026-01-01 12:00:00Z: 2 backup(s) copied, 1.2 MiB" */
export function lastSyncText(job: Job__Output | null): string {
  if (!job) return 'never';
  const when = formatTime(job.finishedAt || job.startedAt || job.createdAt);
  const head = `job ${job.id} ${job.state} ${when}`;
  if (job.state === 'failed') return `${head}: ${job.error}`;
  if (job.state !== 'succeeded') return head;
  const parsed = SyncResult.safeParse(jobJson(job).result);
  if (!parsed.success) return head;
  const r = parsed.data;
  const failed = r.failed.length > 0 ? `, ${r.failed.length} not copied` : '';
  return `${head}: ${r.copied.length} backup(s) copied, ${formatBytes(r.bytesCopied)}${failed}`;
}

function printPair(pair: ReplicationPairStatus__Output): void {
  const { fromSite: from, toSite: to } = pair;
  console.log(`${from} → ${to}  ${pairSettings(pair)}`);
  console.log(`last sync     ${lastSyncText(pair.lastSync)}`);
  console.log(`last success  ${formatTime(pair.lastSuccessAt)}`);
  printTable(
    ['VM', `NEWEST AT ${from}`, `NEWEST AT ${to}`, 'LAG', 'NOT YET REPLICATED', `DATA AGE AT ${to}`],
    pair.vms.map((v) => [
      v.vm,
      `${v.newestAtPrimaryId} ${formatTime(v.newestAtPrimaryAt)}`,
      v.newestAtReplicaId ? `${v.newestAtReplicaId} ${formatTime(v.newestAtReplicaAt)}` : '-',
      formatDuration(v.lagMs),
      v.notYetReplicated,
      v.dataAgeAtReplicaMs === undefined ? '-' : formatDuration(v.dataAgeAtReplicaMs),
    ]),
    `no backups at ${from} yet`,
  );
}
