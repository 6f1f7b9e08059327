import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { loadConfigFile } from '../shared/config/load-config.js';
import { SiteId } from '../shared/ids.js';
import { MetricsConfig } from '../shared/metrics/metrics-config.js';
import { WebhooksConfig } from './notify/webhook-config.js';

const HostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port (port 0: any free port)');

/**
 * The dispatch gate and the policy scheduler (docs/OPERATORS.md "Scheduling"): agent jobs
 * published and not finished, at most `maxJobsPerAgent` per agent and `maxJobsPerSite` per site;
 * policies re-read, closed windows skipped and held jobs offered again every `tickMs`; policy jobs
 * made `prepareLeadMs` ahead of their due time.
 */
export const SchedulerConfig = z
  .object({
    maxJobsPerAgent: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(2),
    maxJobsPerSite: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(8),
    tickMs: z.number().int('must be a whole number of milliseconds').min(50, 'must be at least 50').max(60_000, 'must be at most 60000 (1 min)').default(1000),
    /** Policy jobs are made this long before their due time and held until it, so the due instant only publishes them; 0: made at the due time. */
    prepareLeadMs: z.number().int('must be a whole number of milliseconds').min(0, 'must be at least 0').max(10_000, 'must be at most 10000 (10 s)').default(500),
  })
  .strict()
  .refine((s) => s.maxJobsPerSite >= s.maxJobsPerAgent, { path: ['maxJobsPerSite'], message: 'must be at least maxJobsPerAgent' })
  .default({ maxJobsPerAgent: 2, maxJobsPerSite: 8, tickMs: 1000, prepareLeadMs: 500 });
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;

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
    /** The Prometheus endpoint (docs/OPERATORS.md, Metrics); absent: none. */
    metrics: MetricsConfig.optional(),
    /**
     * Site pairs a sync job copies along: from the primary `from` to the replica `to`. `pull`
     * (default) runs the sync at the replica, which reads from the primary; `push` runs it at
     * the primary, for a replica that cannot reach back. With `intervalMs` the controller starts
     * a sync of the pair that often (none while the previous one is queued or running); without
     * it, syncs run on demand only. Rate and concurrency apply to every sync of the pair unless a
     * request sets its own.
     */
    replication: z
      .array(
        z
          .object({
            from: SiteId,
            to: SiteId,
            mode: z.enum(['pull', 'push'], { error: 'must be pull or push' }).default('pull'),
            intervalMs: z.number().int('must be a whole number of milliseconds').min(1000, 'must be at least 1000 (1 s)').optional(),
            rateBytesPerSecond: z.number().int('must be a whole number').min(1024, 'must be at least 1024 bytes per second').optional(),
            concurrency: z.number().int('must be a whole number').min(1, 'must be at least 1').max(32, 'must be at most 32').optional(),
          })
          .strict()
          .refine((p) => p.from !== p.to, 'from and to must be different sites'),
      )
      .refine(
        (pairs) => new Set(pairs.map((p) => `${p.from}>${p.to}`)).size === pairs.length,
        'each from/to pair may appear only once',
      )
      .default([]),
    // --- scheduling (docs/OPERATORS.md "Scheduling") ---
    scheduler: SchedulerConfig,
    /** Verify skips backups verified within this age unless forced or a request sets its own (24 h). */
    verifySkipWithinMs: z.number().int().nonnegative().default(24 * 3600_000),
    /** GC keeps unreferenced chunks younger than this unless a request sets its own (1 h). */
    gcGraceMs: z.number().int().nonnegative().default(3600_000),
    /**
     * The credential the controller presents to storages when it reads them itself (`bulwark
     * catalog import`): a `peer-read` client in their `access.clients`, inline or in a file
     * (docs/ACCESS.md); none: anonymous.
     */
    storageToken: z.string().min(16, 'must be at least 16 characters').optional(),
    storageTokenFile: z.string().startsWith('/', 'must be an absolute path').optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // --- access (docs/OPERATORS.md "API tokens, roles and audit") ---
    /**
     * Who may call the API. Calls carry an API token (`authorization: Bearer <token>`); a call
     * without one gets `anonymousRole` (`none`: refused). With `bootstrapTokenFile`, a controller
     * whose catalog holds no token at all makes the admin token `bootstrap-admin` at start and
     * writes it there (mode 0600).
     */
    access: z
      .object({
        anonymousRole: z.enum(['none', 'viewer', 'operator', 'admin'], { error: 'must be one of none, viewer, operator, admin' }).default('none'),
        bootstrapTokenFile: z.string().startsWith('/', 'must be an absolute path').optional(),
        /** Audit entries older than this are deleted (at start, then hourly). */
        auditRetentionDays: z
          .number()
          .int('must be a whole number of days')
          .min(1, 'must be at least 1')
          .max(36_500, 'must be at most 36500 (100 years)')
          .default(365),
      })
      .strict()
      .default({ anonymousRole: 'none', auditRetentionDays: 365 }),
    // --- RPO watch and webhooks (docs/OPERATORS.md "RPO watch", "Webhooks") ---
    /** How often the RPO watch checks every watched VM and site (besides after each backup or sync). */
    rpo: z
      .object({ checkIntervalMs: z.number().int('must be a whole number').min(100, 'must be at least 100').default(30_000) })
      .strict()
      .default({ checkIntervalMs: 30_000 }),
    /** Where RPO and damage alert events are POSTed (JSON, signed, retried until acknowledged). */
    webhooks: WebhooksConfig,
  })
  .strict()
  .refine((c) => !(c.storageToken !== undefined && c.storageTokenFile !== undefined), {
    path: ['storageTokenFile'],
    message: 'give storageToken or storageTokenFile, not both',
  });
export type ControllerConfig = z.infer<typeof ControllerConfig>;

/** Reads and validates the controller's config file; a missing path is a ConfigError. */
export function loadControllerConfig(path: string | undefined): Readonly<ControllerConfig> {
  if (path === undefined) throw new ConfigError('--config', '', 'a controller config file is required');
  return loadConfigFile(ControllerConfig, path);
}
