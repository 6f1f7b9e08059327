import type { Command } from 'commander';
import { withController } from '../cli-context.js';
import { formatBytes, formatTime, printJson, printTable } from '../output.js';

/** `bulwark vms` and `bulwark workers`. */
export function registerInventoryCommands(program: Command): void {
  program
    .command('vms')
    .description('list the VMs the agents reported, with their last backup')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { vms } = await api.listVms();
        if (opts.json) {
          printJson(vms);
          return;
        }
        printTable(
          ['VM', 'SITE', 'AGENT', 'HYPERVISOR', 'DISKS', 'SIZE', 'TAGS', 'LAST BACKUP', 'AT'],
          vms.map((vm) => [
            vm.name,
            vm.site,
            vm.worker,
            vm.hypervisor,
            vm.disks.map((d) => d.name).join(', '),
            formatBytes(vm.disks.reduce((sum, d) => sum + d.sizeBytes, 0)),
            vm.tags.join(', ') || '-',
            vm.lastBackupId || '-',
            formatTime(vm.lastBackupAt),
          ]),
          'no VMs known yet (agents report theirs when they start)',
        );
      });
    });

  program
    .command('workers')
    .description('list agents and storages with their state (offline after missed heartbeats)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withController(cmd, async (api) => {
        const { workers } = await api.listWorkers();
        if (opts.json) {
          printJson(workers);
          return;
        }
        printTable(
          ['SITE', 'WORKER', 'KIND', 'STATE', 'LAST SEEN', 'ADDRESS', 'VERSION'],
          workers.map((w) => [w.site, w.id, w.kind, w.state, formatTime(w.lastSeenAt), w.address || '-', w.version]),
          'no workers seen yet',
        );
      });
    });
}
