import { z } from 'zod';
import { loadConfigFile } from '../shared/config/load-config.js';
import { SiteId, WorkerId } from '../shared/ids.js';
import { MetricsConfig } from '../shared/metrics/metrics-config.js';

const MIN_CHUNK_BYTES = 64 * 1024;

const HostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/** The storage daemon's configuration file (JSON). */
export const StorageConfig = z
  .object({
    site: SiteId,
    worker: WorkerId.default('storage'),
    /** The datastore directory; created when missing or empty. */
    datastoreDir: z.string().min(1, 'must not be empty'),
    /** gRPC listen address, host:port (port 0: any free port). */
    listen: HostPort.default('127.0.0.1:0'),
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
    /**
     * Other sites' storages: repair peers (both directions) and sync partners. `address` may be
     * left out when the peer's heartbeats on NATS announce it. `token` (or `tokenFile`, a file
     * holding it) is the credential this storage presents there: a read-only (`peer-read`) or
     * push (`peer-push`) credential listed in the peer's `access.clients`.
     */
    peers: z
      .array(
        z
          .strictObject({
            site: SiteId,
            address: HostPort.optional(),
            token: z.string().min(16, 'must be at least 16 characters').optional(),
            tokenFile: z.string().startsWith('/', 'must be an absolute path').optional(),
          })
          .refine((p) => !(p.token !== undefined && p.tokenFile !== undefined), 'give token or tokenFile, not both'),
      )
      .default([])
      .superRefine((peers, ctx) => {
        const seen = new Set<string>();
        peers.forEach((p, i) => {
          if (seen.has(p.site)) ctx.addIssue({ code: 'custom', path: [i, 'site'], message: `site ${p.site} is listed twice` });
          seen.add(p.site);
        });
      }),
    /**
     * Who may call this storage's BlockStore API. Each client presents a bearer token (gRPC
     * metadata `authorization: Bearer <token>`); storage keeps only its SHA-256. Roles: `agent`
     * (back up and restore), `peer-read` (a replica pulling, a peer fetching good copies: reads
     * only), `peer-push` (a primary pushing: adds chunks and whole backups, never replaces or
     * deletes anything). `anonymousRole`: the role of a call without a token (`none`: refused).
     */
    access: z
      .strictObject({
        anonymousRole: z.enum(['agent', 'peer-read', 'none']).default('agent'),
        clients: z
          .array(
            z.strictObject({
              name: z.string().min(1, 'must not be empty').max(64),
              role: z.enum(['agent', 'peer-read', 'peer-push']),
              tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256 of the token)'),
            }),
          )
          .default([]),
      })
      .default({ anonymousRole: 'agent', clients: [] }),
    /** Background scrub: re-reads every referenced chunk, index and manifest and heals what is bad. */
    scrub: z
      .strictObject({
        /** Off by default; on, a pass starts `intervalMs` after the previous one ended. */
        enabled: z.boolean().default(false),
        /** Bytes read per second (token bucket). */
        rateBytesPerSecond: z.number().int().min(65536, 'must be at least 65536').default(64 * 1024 * 1024),
        intervalMs: z.number().int().min(1000, 'must be at least 1000').default(24 * 3600_000),
      })
      .default({ enabled: false, rateBytesPerSecond: 64 * 1024 * 1024, intervalMs: 24 * 3600_000 }),
    heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(2000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * The Prometheus endpoint (docs/OPERATORS.md, Metrics); absent: none. The chunk store's size
     * is measured by a walk of chunks/ every `chunkStoreRefreshMs` (default a minute).
     */
    metrics: MetricsConfig.extend({
      chunkStoreRefreshMs: z.number().int('must be a whole number of milliseconds').min(1000, 'must be at least 1000 (1 s)').default(60_000),
    }).optional(),
  })
  .strict();
export type StorageConfig = z.output<typeof StorageConfig>;

/** Reads and validates a storage config file; a ConfigError names the field. */
export function loadStorageConfig(path: string): Readonly<StorageConfig> {
  const config = loadConfigFile(StorageConfig, path);
  Object.freeze(config.nats);
  return config;
}
