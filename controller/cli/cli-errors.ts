/**
 * The CLI's failures: exit codes, the errors only the CLI raises, and what it prints for any
 * error: the message, then a `hint:` line saying what to do next (how to reach the controller,
 * how to list what exists, which token role is needed).
 */
import { CommanderError } from 'commander';
import { AppError, ConfigError, ValidationError } from '../../shared/errors.js';
import { WrongPassphraseError } from '../../shared/crypto/key-file.js';

/** Exit codes of the `bulwark` command. */
export const ExitCode = {
  ok: 0,
  /** The job failed, or the controller refused the request (not found, precondition). */
  failed: 1,
  /** Bad input: an argument, an option, an environment variable or the client config. */
  usage: 2,
  /** The controller cannot be reached. */
  unreachable: 3,
  /** The controller refused the caller: no API token, a token not valid there, or a role too weak. */
  denied: 4,
  /** It worked, and what it shows needs attention (status, rpo: a breach, an open alert, a worker offline). */
  needsAttention: 5,
} as const;

export const exitCodesHelp = `
Exit codes:
  0  success
  1  the job failed, or the controller refused the request (unknown VM, no online storage, ...)
  2  bad input: an argument, an option, BULWARK_CONTROLLER or the client config
  3  the controller cannot be reached
  4  not allowed: no API token, a token not valid at this controller, or a role too weak (see \`bulwark token\`)
  5  status and rpo only: it worked, and something needs attention (an RPO breach, a damage alert, a worker offline)`;

const REACH_HINT =
  'start one with `bulwark up`, or point the CLI at the running one: --controller <host:port>, BULWARK_CONTROLLER, or "controller" in client.json under $BULWARK_HOME (default ./.bulwark)';

/** No controller answers at the address the CLI found. */
export class ControllerUnreachableError extends AppError {
  constructor(
    readonly address: string,
    readonly source: string,
    cause?: unknown,
  ) {
    super('UNAVAILABLE', `cannot reach the controller at ${address} (address from ${source}): is \`bulwark up\` running?`, { cause, details: { address, source } });
  }
}

/** The CLI found no controller address at all. */
export class ControllerNotConfiguredError extends AppError {
  constructor(readonly looked: string) {
    super('UNAVAILABLE', `cannot find the controller: no --controller, no BULWARK_CONTROLLER and no ${looked}: is \`bulwark up\` running?`, { details: { looked } });
  }
}

/** A followed job ended in failure. */
export class JobFailedError extends AppError {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super('INTERNAL', `job ${jobId} failed: ${reason}`, { details: { jobId } });
  }
}

/** Where to list the things a NOT_FOUND names, by the `what` of NotFoundError. */
const LISTINGS: Readonly<Record<string, string>> = {
  VM: '`bulwark vms` lists the VMs the agents reported',
  backup: '`bulwark backups` lists the backups (`--vm <vm>`, `--site <site>` to narrow)',
  job: '`bulwark jobs` lists the jobs, newest first',
  agent: '`bulwark workers` lists the agents and storages',
  'storage at site': '`bulwark workers` lists the storages and whether they are online',
  policy: '`bulwark policy list` lists the policies',
  token: '`bulwark token list` lists the API tokens',
};

/** The next step for an error, or undefined when its message says it already. */
export function errorHint(err: unknown): string | undefined {
  if (err instanceof ControllerUnreachableError || err instanceof ControllerNotConfiguredError) return REACH_HINT;
  if (err instanceof WrongPassphraseError) return 'check the passphrase: --passphrase-file <file>, BULWARK_KEY_PASSPHRASE, or type it at the prompt';
  if (!(err instanceof AppError)) return undefined;
  const has = (text: string) => err.message.includes(text);
  switch (err.code) {
    case 'UNAVAILABLE':
      return 'a worker or storage the controller needs is not reachable: `bulwark workers` shows which are offline; try again once they are back';
    case 'DEADLINE_EXCEEDED':
      return 'the controller did not answer in time: it may be overloaded or stuck; `bulwark status` shows whether it answers at all, and the controller log says why';
    case 'NOT_FOUND': {
      const what = typeof err.details.what === 'string' ? err.details.what : '';
      return LISTINGS[what] ?? 'the name may be misspelt: `bulwark status` gives an overview, `bulwark vms`, `bulwark backups` and `bulwark jobs` list what exists';
    }
    case 'FAILED_PRECONDITION':
      return 'the controller refused it in the current state: `bulwark status` and `bulwark workers` show that state (workers offline, a job still running, ...); fix it and run the command again';
    case 'ALREADY_EXISTS':
      return 'pick another name, or change the existing one instead';
    case 'UNAUTHENTICATED':
      return has('bulwark token create')
        ? undefined
        : 'give an API token with --token-file <file> or BULWARK_TOKEN; an admin makes one with `bulwark token create <name> --role <role>`';
    case 'PERMISSION_DENIED':
      return has('bulwark token create')
        ? undefined
        : 'use a token with a role that may do this (an admin makes one with `bulwark token create <name> --role operator|admin`)';
    case 'INVALID_ARGUMENT': {
      const field = typeof err.details.field === 'string' ? err.details.field : '';
      if (err instanceof ConfigError) return `fix ${err.source}${err.field ? ` (${err.field})` : ''} and run the command again`;
      return field ? `fix ${field}; \`bulwark <command> --help\` lists the options and their values` : '`bulwark <command> --help` lists the options and their values';
    }
    case 'CANCELLED':
      return undefined;
    default:
      return undefined;
  }
}

/** The exit code of a failed command (see `exitCodesHelp`). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (err instanceof ValidationError || err instanceof ConfigError) return ExitCode.usage;
  if (err instanceof AppError) {
    if (err.code === 'INVALID_ARGUMENT') return ExitCode.usage;
    if (err.code === 'UNAVAILABLE') return ExitCode.unreachable;
    // A key's passphrase is no API access: a wrong one is a refused request (exit 1).
    if (err instanceof WrongPassphraseError) return ExitCode.failed;
    if (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED') return ExitCode.denied;
  }
  return ExitCode.failed;
}

/**
 * What the CLI prints on stderr for a failed command: `bulwark: <message>` and a `hint:` line;
 * empty for commander's own errors (it printed them already).
 */
export function errorText(err: unknown): string {
  if (err instanceof CommanderError) return '';
  const prefix = err instanceof ValidationError ? 'invalid input: ' : '';
  const message = err instanceof Error ? err.message : String(err);
  const hint = errorHint(err);
  return `bulwark: ${prefix}${message}${hint ? `\n  hint: ${hint}` : ''}\n`;
}
