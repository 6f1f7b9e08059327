/**
 * The `bulwark` command: a gRPC client of the controller (plus `bulwark up`, which starts the
 * embedded deployment). Exit codes: 0 success, 1 job failed or request refused, 2 bad input,
 * 3 controller unreachable.
 */
import { Command, CommanderError } from 'commander';
import { AppError, ConfigError, ValidationError } from '../../shared/errors.js';
import { ExitCode, exitCodesHelp } from './cli-errors.js';
import { registerBackupCommands } from './commands/backup-commands.js';
import { registerCatalogCommands } from './commands/catalog-commands.js';
import { registerCompletionCommand } from './commands/completion-command.js';
import { registerInventoryCommands } from './commands/inventory-commands.js';
import { registerJobCommands } from './commands/job-commands.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { registerRepairCommands } from './commands/repair-commands.js';
import { registerReplicationCommand } from './commands/replication-command.js';
import { registerRestoreCommand } from './commands/restore-command.js';
import { registerRetentionCommands } from './commands/retention-commands.js';
import { registerSnapshotCommands } from './commands/snapshot-commands.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerStorageCommands } from './commands/storage-commands.js';
import { registerStorageTokenCommands } from './commands/storage-token-commands.js';
import { registerUpCommand } from './up/up-command.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('bulwark')
    .description('Bulwark: agentless VM backup, off-site replication and self-healing restore')
    .option(
      '--controller <host:port>',
      'controller address (default: $BULWARK_CONTROLLER, then client.json in $BULWARK_HOME or ./.bulwark)',
    )
    .exitOverride()
    .showSuggestionAfterError();
  registerUpCommand(program);
  registerStatusCommand(program);
  registerInventoryCommands(program);
  registerBackupCommands(program);
  registerRestoreCommand(program);
  registerStorageCommands(program);
  registerReplicationCommand(program);
  registerRepairCommands(program);
  registerRetentionCommands(program);
  registerSnapshotCommands(program);
  registerJobCommands(program);
  registerKeyCommands(program);
  registerStorageTokenCommands(program);
  registerCatalogCommands(program);
  registerCompletionCommand(program);
  program.addHelpText('after', exitCodesHelp);
  for (const cmd of program.commands) cmd.addHelpText('after', exitCodesHelp);
  return program;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (err instanceof ValidationError || err instanceof ConfigError) return ExitCode.usage;
  if (err instanceof AppError) {
    if (err.code === 'INVALID_ARGUMENT') return ExitCode.usage;
    if (err.code === 'UNAVAILABLE') return ExitCode.unreachable;
  }
  return ExitCode.failed;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // Commander has printed its own message already.
  if (!(err instanceof CommanderError)) {
    const prefix = err instanceof ValidationError ? 'invalid input: ' : '';
    console.error(`bulwark: ${prefix}${err instanceof Error ? err.message : String(err)}`);
  }
  process.exitCode = exitCodeOf(err);
}
