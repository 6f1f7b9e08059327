/**
 * `bulwark catalog import`: rebuilds the controller's catalog of backup copies at one site from
 * the manifests its storage holds, for when the controller's database is lost (docs/OPERATORS.md,
 * "Rebuilding the catalog"). The controller reads the storage itself; the CLI only asks.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { withController } from '../cli-context.js';
import { parseSite, zodParser } from '../option-parsers.js';
import { printJson } from '../output.js';

interface ImportOptions {
  storage?: string;
  site?: string;
  json?: boolean;
}

const parseStorageAddress = zodParser(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port'));

/** `bulwark catalog …`. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description("the controller's catalog of backups");
  catalog
    .command('import')
    .description(
      "rebuild the catalog from a storage's manifests: add every backup copy it holds that the catalog lacks (safe to repeat)",
    )
    .option('--storage <host:port>', "the storage's gRPC address (its site: the datastore's own, or --site)", parseStorageAddress)
    .option('--site <site>', 'record the copies at this site; without --storage, read its online storage', parseSite)
    .option('--json', 'print JSON')
    .action(async (opts: ImportOptions, cmd: Command) => {
      if (opts.storage === undefined && opts.site === undefined) cmd.error('error: give --storage <host:port> or --site <site>', { exitCode: 2 });
      await withController(cmd, async (api) => {
        const report = await api.importCatalog({ storageAddress: opts.storage ?? '', site: opts.site ?? '' });
        if (opts.json) {
          printJson(report);
          return;
        }
        console.log(`site ${report.site} (storage ${report.storageAddress}): ${report.found} backup${report.found === 1 ? '' : 's'} found`);
        console.log(`  added           ${report.added}`);
        console.log(`  already known   ${report.alreadyKnown}${report.updated > 0 ? ` (${report.updated} with a newer verify or lock)` : ''}`);
        if (report.restored > 0) console.log(`  present again   ${report.restored} (recorded as pruned before)`);
        if (report.notAtStorage > 0) {
          console.log(`  not at storage  ${report.notAtStorage} (in the catalog at site ${report.site}, left as they are)`);
        }
        for (const s of report.skipped) console.log(`  skipped         ${s.backupId}: ${s.reason}`);
      });
    });
}
