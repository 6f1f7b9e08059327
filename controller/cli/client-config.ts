/**
 * Where the CLI finds the controller: `--controller <host:port>`, else $BULWARK_CONTROLLER, else
 * the client config `client.json` that `bulwark up` writes in its data directory
 * ($BULWARK_HOME, default ./.bulwark).
 *
 * And the API token it sends (docs/OPERATORS.md "API tokens, roles and audit"): `--token-file
 * <file>`, else $BULWARK_TOKEN, else the client config's `token` or `tokenFile` (only when the
 * controller is the client config's own, so its token never goes to another controller).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, ValidationError } from '../../shared/errors.js';
import { parseConfig } from '../../shared/config/load-config.js';
import { readTokenSource } from '../../shared/config/token-source.js';

/** `host:port` of the controller's gRPC API. */
export const ControllerAddress = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7400')
  .refine((a) => {
    const port = Number(a.slice(a.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'the port must be between 1 and 65535');

export const ClientConfig = z
  .object({
    controller: ControllerAddress,
    /** The API token, inline (keep the file mode 0600) or in a file (an absolute path). */
    token: z.string().min(1, 'must not be empty').optional(),
    tokenFile: z.string().startsWith('/', 'must be an absolute path').optional(),
  })
  .refine((c) => !(c.token !== undefined && c.tokenFile !== undefined), { path: ['tokenFile'], message: 'give token or tokenFile, not both' });
export type ClientConfig = z.infer<typeof ClientConfig>;

/** The default data directory of `bulwark up` and the CLI. */
export const DEFAULT_HOME = '.bulwark';

/** The client config file in a data directory. */
export function clientConfigPath(dir: string): string {
  return join(resolve(dir), 'client.json');
}

/**
 * Writes the client config atomically (tmp + rename), so a CLI never reads half a file; mode
 * 0600, as it may name or hold a token.
 */
export function writeClientConfig(dir: string, address: string, auth: { tokenFile: string } | { token: string } | Record<string, never> = {}): void {
  const config = ClientConfig.parse({ controller: address, ...auth });
  const path = clientConfigPath(dir);
  mkdirSync(resolve(dir), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export interface ControllerLocation {
  readonly address: string;
  /** Where the address came from, for messages. */
  readonly source: string;
  /** The API token to send; none: calls go without one (the controller's anonymous role). */
  readonly token?: string | undefined;
  /** Where the token came from, for messages. */
  readonly tokenSource?: string | undefined;
}

export interface DiscoveryInput {
  readonly flag?: string | undefined;
  /** `--token-file <file>`. */
  readonly tokenFile?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * Finds the controller's address and the token to send it; undefined when nothing names an
 * address. Bad values throw, naming their source.
 */
export function locateController(input: DiscoveryInput): ControllerLocation | undefined {
  const path = discoveryHint(input);
  const named = input.flag !== undefined || (input.env.BULWARK_CONTROLLER !== undefined && input.env.BULWARK_CONTROLLER !== '');
  // With the address given, a broken client config only means no token from it.
  let config: ClientConfig | undefined;
  if (existsSync(path)) {
    try {
      config = readClientConfig(path);
    } catch (err) {
      if (!named) throw err;
    }
  }
  let location: ControllerLocation | undefined;
  if (input.flag !== undefined) {
    const parsed = ControllerAddress.safeParse(input.flag);
    if (!parsed.success) throw new ValidationError('--controller', parsed.error.issues[0]?.message ?? 'invalid');
    location = { address: parsed.data, source: '--controller' };
  } else if (input.env.BULWARK_CONTROLLER !== undefined && input.env.BULWARK_CONTROLLER !== '') {
    const parsed = ControllerAddress.safeParse(input.env.BULWARK_CONTROLLER);
    if (!parsed.success) throw new ConfigError('BULWARK_CONTROLLER', '', parsed.error.issues[0]?.message ?? 'invalid');
    location = { address: parsed.data, source: 'BULWARK_CONTROLLER' };
  } else if (config) {
    location = { address: config.controller, source: path };
  }
  if (!location) return undefined;
  const token = findToken(input, location.address === config?.controller ? { config, path } : undefined);
  return token ? { ...location, ...token } : location;
}

function readClientConfig(path: string): ClientConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, '', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(ClientConfig, value, path);
}

function findToken(input: DiscoveryInput, own: { config: ClientConfig; path: string } | undefined): { token: string; tokenSource: string } | undefined {
  if (input.tokenFile !== undefined) {
    const token = readTokenSource({ tokenFile: input.tokenFile }, '--token-file', 'token');
    if (token !== undefined) return { token, tokenSource: `--token-file ${input.tokenFile}` };
  }
  const fromEnv = input.env.BULWARK_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') {
    const token = readTokenSource({ token: fromEnv }, 'BULWARK_TOKEN', 'token');
    if (token !== undefined) return { token, tokenSource: 'BULWARK_TOKEN' };
  }
  if (!own) return undefined;
  const token = readTokenSource({ token: own.config.token, tokenFile: own.config.tokenFile }, own.path, 'token');
  return token === undefined ? undefined : { token, tokenSource: own.path };
}

/** Where discovery looked, for the message when nothing was found. */
export function discoveryHint(input: DiscoveryInput): string {
  const home = input.env.BULWARK_HOME !== undefined && input.env.BULWARK_HOME !== '' ? input.env.BULWARK_HOME : join(input.cwd, DEFAULT_HOME);
  return clientConfigPath(resolve(input.cwd, home));
}
