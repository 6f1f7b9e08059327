import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { loadConfigFile } from '../shared/config/load-config.js';
import { SiteId } from '../shared/ids.js';

const HostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port (port 0: any free port)');

/** The controller's configuration file (JSON). */
export const ControllerConfig = z
  .object({
    /** gRPC listen address for the CLI. */
    listen: HostPort.default('127.0.0.1:0'),
    nats: z.object({ url: z.string().min(1, 'must not be empty') }).strict(),
    /** The SQLite catalog file. */
    databasePath: z.string().min(1, 'must not be empty'),
    /** How often workers beat; a worker is offline after `offlineAfterMissedBeats` missed beats. */
    heartbeatIntervalMs: z.number().int().positive().default(2000),
    offlineAfterMissedBeats: z.number().int().positive().default(3),
    /** Site pairs a sync job copies along by default: the replica `to` pulls from `from`. */
    replication: z
      .array(
        z
          .object({ from: SiteId, to: SiteId })
          .strict()
          .refine((p) => p.from !== p.to, 'from and to must be different sites'),
      )
      .default([]),
    /** Verify skips backups verified within this age unless forced or a request sets its own (24 h). */
    verifySkipWithinMs: z.number().int().nonnegative().default(24 * 3600_000),
    /** GC keeps unreferenced chunks younger than this unless a request sets its own (1 h). */
    gcGraceMs: z.number().int().nonnegative().default(3600_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();
export type ControllerConfig = z.infer<typeof ControllerConfig>;

/** Reads and validates the controller's config file; a missing path is a ConfigError. */
export function loadControllerConfig(path: string | undefined): Readonly<ControllerConfig> {
  if (path === undefined) throw new ConfigError('--config', '', 'a controller config file is required');
  return loadConfigFile(ControllerConfig, path);
}
