/**
 * Where the CLI finds the controller: `--controller <host:port>`, else $BULWARK_CONTROLLER, else
 * the client config `client.json` that `bulwark up` writes in its data directory
 * ($BULWARK_HOME, default ./.bulwark).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, ValidationError } from '../../shared/errors.js';
import { parseConfig } from '../../shared/config/load-config.js';

/** `host:port` of the controller's gRPC API. */
export const ControllerAddress = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7400')
  .refine((a) => {
    const port = Number(a.slice(a.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'the port must be between 1 and 65535');

export const ClientConfig = z.object({ controller: ControllerAddress });
export type ClientConfig = z.infer<typeof ClientConfig>;

/** The default data directory of `bulwark up` and the CLI. */
export const DEFAULT_HOME = '.bulwark';

/** The client config file in a data directory. */
export function clientConfigPath(dir: string): string {
  return join(resolve(dir), 'client.json');
}

/** Writes the client config atomically (tmp + rename), so a CLI never reads half a file. */
export function writeClientConfig(dir: string, address: string): void {
  const config = ClientConfig.parse({ controller: address });
  const path = clientConfigPath(dir);
  mkdirSync(resolve(dir), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(tmp, path);
}

export interface ControllerLocation {
  readonly address: string;
  /** Where the address came from, for messages. */
  readonly source: string;
}

export interface DiscoveryInput {
  readonly flag?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Finds the controller's address; undefined when nothing names one. Bad values throw, naming their source. */
export function locateController(input: DiscoveryInput): ControllerLocation | undefined {
  if (input.flag !== undefined) {
    const parsed = ControllerAddress.safeParse(input.flag);
    if (!parsed.success) throw new ValidationError('--controller', parsed.error.issues[0]?.message ?? 'invalid');
    return { address: parsed.data, source: '--controller' };
  }
  const fromEnv = input.env.BULWARK_CONTROLLER;
  if (fromEnv !== undefined && fromEnv !== '') {
    const parsed = ControllerAddress.safeParse(fromEnv);
    if (!parsed.success) throw new ConfigError('BULWARK_CONTROLLER', '', parsed.error.issues[0]?.message ?? 'invalid');
    return { address: parsed.data, source: 'BULWARK_CONTROLLER' };
  }
  const home = input.env.BULWARK_HOME !== undefined && input.env.BULWARK_HOME !== '' ? input.env.BULWARK_HOME : join(input.cwd, DEFAULT_HOME);
  const path = clientConfigPath(resolve(input.cwd, home));
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, '', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return { address: parseConfig(ClientConfig, value, path).controller, source: path };
}

/** Where discovery looked, for the message when nothing was found. */
export function discoveryHint(input: DiscoveryInput): string {
  const home = input.env.BULWARK_HOME !== undefined && input.env.BULWARK_HOME !== '' ? input.env.BULWARK_HOME : join(input.cwd, DEFAULT_HOME);
  return clientConfigPath(resolve(input.cwd, home));
}
