/**
 * The `bulwark` command: a gRPC client of the controller (plus `bulwark up`, which starts the
 * embedded deployment). Exit codes (cli-errors.ts): 0 success, 1 job failed or request refused,
 * 2 bad input, 3 controller unreachable, 4 not allowed, 5 needs attention (status, rpo).
 */
import { Command } from 'commander';
import { errorText, exitCodeOf, exitCodesHelp } from './cli-errors.js';
import { parseProgressMode } from './progress-mode.js';
import { registerBackupCommands } from './commands/backup-commands.js';
import { registerCatalogCommands } from './commands/catalog-commands.js';
import { registerCompletionCommand } from './commands/completion-command.js';
import { registerInventoryCommands } from './commands/inventory-commands.js';
import { registerJobCommands } from './commands/job-commands.js';
import { registerCancelCommand } from './commands/cancel-command.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { registerRepairCommands } from './commands/repair-commands.js';
import { registerReplicationCommand } from './commands/replication-command.js';
import { registerRestoreCommand } from './commands/restore-command.js';
import { registerRetentionCommands } from './commands/retention-commands.js';
import { registerSnapshotCommands } from './commands/snapshot-commands.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerRpoCommand } from './commands/rpo-command.js';
import { registerStorageCommands } from './commands/storage-commands.js';
import { registerStorageTokenCommands } from './commands/storage-token-commands.js';
import { registerUpCommand } from './up/up-command.js';
import { registerTokenCommands } from './commands/token-commands.js';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerPolicyCommands } from './commands/policy-commands.js';
import { parseDir } from './option-parsers.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('bulwark')
    .description('Bulwark: agentless VM backup, off-site replication and self-healing restore')
    .option(
      '--controller <host:port>',
      'controller address (default: $BULWARK_CONTROLLER, then client.json in $BULWARK_HOME or ./.bulwark)',
    )
    .option(
      '--progress <mode>',
      '--wait progress: auto (a bar on stderr when it is a terminal, else plain lines), bar, plain or none (default: $BULWARK_PROGRESS, else auto)',
      parseProgressMode,
    )
    .option(
      '--token-file <file>',
      'the API token to send (default: $BULWARK_TOKEN, then token or tokenFile in client.json); see `bulwark token`',
      parseDir,
    )
    .exitOverride()
    .showSuggestionAfterError();
  registerUpCommand(program);
  registerStatusCommand(program);
  registerRpoCommand(program);
  registerInventoryCommands(program);
  registerBackupCommands(program);
  registerPolicyCommands(program);
  registerRestoreCommand(program);
  registerStorageCommands(program);
  registerReplicationCommand(program);
  registerRepairCommands(program);
  registerRetentionCommands(program);
  registerSnapshotCommands(program);
  registerJobCommands(program);
  registerCancelCommand(program);
  registerKeyCommands(program);
  registerStorageTokenCommands(program);
  registerCatalogCommands(program);
  registerTokenCommands(program);
  registerAuditCommand(program);
  registerCompletionCommand(program);
  program.addHelpText('after', exitCodesHelp);
  for (const cmd of program.commands) cmd.addHelpText('after', exitCodesHelp);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // Commander has printed its own message already (errorText gives '' for those).
  process.stderr.write(errorText(err));
  process.exitCode = exitCodeOf(err);
}
