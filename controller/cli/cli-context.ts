/** What every command that talks to the controller shares: finding it, connecting, closing. */
import type { Command } from 'commander';
import { ControllerNotConfiguredError } from './cli-errors.js';
import { discoveryHint, locateController } from './client-config.js';
import { ControllerApi } from './controller-api.js';

/** Runs `fn` with a connected controller client; the client is closed afterwards. */
export async function withController<T>(cmd: Command, fn: (api: ControllerApi) => Promise<T>): Promise<T> {
  const { controller } = cmd.optsWithGlobals<{ controller?: string }>();
  const input = { flag: controller, env: process.env, cwd: process.cwd() };
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
