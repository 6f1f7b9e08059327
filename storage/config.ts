import { z } from 'zod';
import { loadConfigFile } from '../shared/config/load-config.js';
import { SiteId, WorkerId } from '../shared/ids.js';

const MIN_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/** The storage daemon's configuration file (JSON). */
export const StorageConfig = z
  .object({
    site: SiteId,
    worker: WorkerId.default('storage'),
    /** The datastore directory; created when missing or empty. */
    datastoreDir: z.string().min(1, 'must not be empty'),
    /** gRPC listen address, host:port (port 0: any free port). */
    listen: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
      .default('127.0.0.1:0'),
    nats: z.strictObject({ url: z.string().min(1, 'must not be empty') }),
    /** Used only when a new datastore is created; an existing datastore keeps its own. */
    chunkSizeBytes: z
      .number()
      .int()
      .min(MIN_CHUNK_BYTES, `must be at least ${MIN_CHUNK_BYTES}`)
      .max(MAX_CHUNK_BYTES, `must be at most ${MAX_CHUNK_BYTES}`)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(1024 * 1024),
    /**
     * Fingerprint (32 hex) of the key the agents encrypt with: recorded in a datastore created
     * now; an existing datastore whose fingerprint differs refuses to start. Absent: unencrypted.
     * Storage never holds the key itself.
     */
    keyFingerprint: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters (bulwark key fingerprint)')
      .optional(),
    heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(2000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();
export type StorageConfig = z.output<typeof StorageConfig>;

/** Reads and validates a storage config file; a ConfigError names the field. */
export function loadStorageConfig(path: string): Readonly<StorageConfig> {
  const config = loadConfigFile(StorageConfig, path);
  Object.freeze(config.nats);
  return config;
}
