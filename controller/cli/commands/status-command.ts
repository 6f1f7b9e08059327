import type { Command } from 'commander';
import type { GetStatusResponse__Output } from '../../../shared/rpc/generated/bulwark/v1/GetStatusResponse.js';
import type { Worker__Output } from '../../../shared/rpc/generated/bulwark/v1/Worker.js';
import { withController } from '../cli-context.js';
import { parseDuration } from '../option-parsers.js';
import { alertLines, formatDuration, formatTime, jobJson, printJson, printTable, progressText } from '../output.js';
import { lastSyncText, pairJson, pairSettings } from './replication-command.js';
import { NEEDS_ATTENTION_EXIT_CODE, RPO_HEAD, needsAttentionHelp, rpoEntryJson, rpoRows } from './rpo-command.js';

/** Above this many watched pairs, the status lists only the breached ones (`bulwark rpo` lists all). */
const RPO_ROWS_LIMIT = 50;

/** `bulwark status`: exits 5 when something needs attention (see needsAttentionHelp). */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'the deployment at a glance: what needs attention, sites and their workers, the newest backup of each VM, RPO state, open damage alerts, replication lag, running and recently failed jobs',
    )
    .option('--failed-within <duration>', 'list jobs that failed within this age (default 24h)', parseDuration)
    .option('--json', 'print JSON')
    .addHelpText('after', needsAttentionHelp)
    .action(async (opts: { failedWithin?: number; json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const status = await api.getStatus(opts.failedWithin !== undefined ? { failedWithinMs: opts.failedWithin } : {});
        if (opts.json) {
          printJson({
            ...status,
            replication: status.replication.map(pairJson),
            activeJobs: status.activeJobs.map(jobJson),
            failedJobs: status.failedJobs.map(jobJson),
            rpo: status.rpo.map(rpoEntryJson),
          });
        } else {
          printStatus(status);
        }
        if (status.needsAttention.length > 0) process.exitCode = NEEDS_ATTENTION_EXIT_CODE;
      });
    });
}

function printStatus(s: GetStatusResponse__Output): void {
  const nowMs = Date.parse(s.now);
  const age = (iso: string) => (iso ? formatDuration(nowMs - Date.parse(iso)) : '-');
  console.log(`Bulwark status at ${formatTime(s.now)}`);
  if (s.needsAttention.length === 0) console.log('Nothing needs attention.');
  else for (const line of s.needsAttention) console.log(`NEEDS ATTENTION: ${line}`);

  section('Sites');
  const sites = [...new Set(s.workers.map((w) => w.site))].sort();
  const workersText = (site: string, kind: string) =>
    s.workers
      .filter((w) => w.site === site && w.kind === kind)
      .map(workerText)
      .join(', ') || '-';
  printTable(
    ['SITE', 'STORAGES', 'AGENTS'],
    sites.map((site) => [site, workersText(site, 'storage'), workersText(site, 'agent')]),
    'no workers seen yet',
  );

  section('Backups (newest per VM and site)');
  printTable(
    ['VM', 'SITE', 'NEWEST BACKUP', 'CREATED', 'AGE', 'STATE'],
    s.vms.flatMap((vm) =>
      vm.newest.length === 0
        ? [[vm.name, vm.site || '-', '-', '-', '-', 'no backup yet']]
        : vm.newest.map((c) => [vm.name, c.site, c.backupId, formatTime(c.createdAt), age(c.createdAt), c.state]),
    ),
    'no VMs known yet',
  );

  const breached = s.rpo.filter((e) => e.state === 'breached');
  section(
    s.rpo.length === 0
      ? 'RPO: no VM watched (give a policy an RPO)'
      : `RPO: ${s.rpo.length} watched, ${s.rpo.length - breached.length} ok, ${breached.length === 0 ? 'none breached' : `${breached.length} BREACHED`}`,
  );
  if (s.rpo.length > 0 && s.rpo.length <= RPO_ROWS_LIMIT) printTable(RPO_HEAD, rpoRows(s.rpo), '');
  else if (breached.length > 0) {
    printTable(RPO_HEAD, rpoRows(breached), '');
    console.log('(breached only; `bulwark rpo` lists every watched VM and site)');
  }

  section(`Open alerts: ${s.openAlerts.length === 0 ? 'none' : s.openAlerts.length}`);
  s.openAlerts.forEach((a, i) => {
    if (i > 0) console.log('');
    for (const line of alertLines(a)) console.log(line);
  });

  section('Replication');
  if (s.replication.length === 0) console.log('no replication configured and no sync run yet');
  for (const pair of s.replication) {
    console.log(`${pair.fromSite} → ${pair.toSite}  ${pairSettings(pair)}; last sync ${lastSyncText(pair.lastSync)}`);
  }
  const lagRows = s.replication.flatMap((pair) =>
    pair.vms.map((v) => [
      `${pair.fromSite} → ${pair.toSite}`,
      v.vm,
      formatDuration(v.lagMs),
      v.notYetReplicated,
      v.dataAgeAtReplicaMs === undefined ? '-' : formatDuration(v.dataAgeAtReplicaMs),
    ]),
  );
  if (s.replication.length > 0) printTable(['PAIR', 'VM', 'LAG', 'NOT YET REPLICATED', 'DATA AGE AT REPLICA'], lagRows, 'no backups to replicate yet');

  section('Jobs running or queued');
  printTable(
    ['JOB', 'KIND', 'STATE', 'WORKER', 'VM', 'CREATED', 'PROGRESS'],
    s.activeJobs.map((j) => [j.id, j.kind, j.state, `${j.site}/${j.worker}`, j.vm || '-', formatTime(j.createdAt), j.state === 'running' ? progressText(j) : '']),
    'none',
  );

  const hours = s.failedWithinMs / 3_600_000;
  section(`Jobs failed in the last ${Number.isInteger(hours) && hours <= 48 ? `${hours}h` : formatDuration(s.failedWithinMs)}`);
  printTable(
    ['JOB', 'KIND', 'WORKER', 'VM', 'FINISHED', 'ERROR'],
    s.failedJobs.map((j) => [j.id, j.kind, `${j.site}/${j.worker}`, j.vm || '-', formatTime(j.finishedAt), j.error]),
    'none',
  );
}

function section(title: string): void {
  console.log(`\n${title}`);
}

function workerText(w: Worker__Output): string {
  return `${w.id} ${w.state}`;
}
