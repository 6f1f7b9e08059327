import { AppError } from '../../shared/errors.js';

/** Exit codes of the `bulwark` command. */
export const ExitCode = {
  ok: 0,
  /** The job failed, or the controller refused the request (not found, precondition). */
  failed: 1,
  /** Bad input: an argument, an option, an environment variable or the client config. */
  usage: 2,
  /** The controller cannot be reached. */
  unreachable: 3,
} as const;

export const exitCodesHelp = `
Exit codes:
  0  success
  1  the job failed, or the controller refused the request (unknown VM, no online storage, ...)
  2  bad input: an argument, an option, BULWARK_CONTROLLER or the client config
  3  the controller cannot be reached`;

/** No controller answers at the address the CLI found. */
export class ControllerUnreachableError extends AppError {
  constructor(
    readonly address: string,
    readonly source: string,
    cause?: unknown,
  ) {
    super(
      'UNAVAILABLE',
      `cannot reach the controller at ${address} (from ${source}; is \`bulwark up\` running? set BULWARK_CONTROLLER or --controller)`,
      { cause, details: { address, source } },
    );
  }
}

/** The CLI found no controller address at all. */
export class ControllerNotConfiguredError extends AppError {
  constructor(looked: string) {
    super(
      'UNAVAILABLE',
      `cannot find the controller: no --controller, no BULWARK_CONTROLLER and no ${looked} (is \`bulwark up\` running? set BULWARK_CONTROLLER or --controller)`,
    );
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
