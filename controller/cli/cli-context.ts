/** What every command that talks to the controller shares: finding it, connecting, closing. */
import type { Command } from 'commander';
import { ControllerNotConfiguredError } from './cli-errors.js';
import { discoveryHint, locateController } from './client-config.js';
import { ControllerApi } from './controller-api.js';
import { progressModeFrom, resolveProgressView, type ProgressMode, type ProgressView } from './progress-mode.js';

/** Runs `fn` with a connected controller client; the client is closed afterwards. */
export async function withController<T>(cmd: Command, fn: (api: ControllerApi) => Promise<T>): Promise<T> {
  const { controller, tokenFile } = cmd.optsWithGlobals<{ controller?: string; tokenFile?: string }>();
  // A bad $BULWARK_PROGRESS fails here, before a job is started, not once it is to be followed.
  progressModeFrom({ flag: progressFlagOf(cmd), env: process.env });
  const input = { flag: controller, tokenFile, env: process.env, cwd: process.cwd() };
  const location = locateController(input);
  if (!location) throw new ControllerNotConfiguredError(discoveryHint(input));
  const api = new ControllerApi(location);
  try {
    await api.connect();
    return await fn(api);
  } finally {
    api.close();
  }
}

/** The global `--progress <mode>`, when given (reportStartedJob's `progress`). */
export function progressFlagOf(cmd: Command): ProgressMode | undefined {
  return cmd.optsWithGlobals<{ progress?: ProgressMode }>().progress;
}

/** How `followJob` shows progress for this command (`--progress`, $BULWARK_PROGRESS, --json, whether stderr is a terminal). */
export function progressViewOf(cmd: Command, json: boolean): ProgressView {
  return resolveProgressView({ flag: progressFlagOf(cmd), env: process.env, json, stderrIsTty: process.stderr.isTTY === true });
}
