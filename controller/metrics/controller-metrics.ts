/**
 * The controller's Prometheus metrics. Most are read from the catalog at scrape time (grouped
 * counts, cheap, and right after a restart); job durations are observed once per job, when the
 * change feed reports it finished, since a histogram cannot be rebuilt from rows at each scrape.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { JobKind } from '../../shared/messages/jobs.js';
import { JOB_DURATION_BUCKETS_SECONDS } from '../../shared/metrics/worker-job-metrics.js';
import { JobStates, type Catalog } from '../catalog/catalog.js';
import type { JobChangeFeed } from '../jobs/job-change-feed.js';
import type { ReplicationStatusReader } from '../jobs/replication-status.js';
import type { RpoEntry } from '../policies/rpo-watch.js';

/** Finished job ids remembered so that a repeated notification is not observed twice. */
const SEEN_FINISHED_LIMIT = 10_000;

export interface ControllerMetricsDeps {
  readonly registry: Registry;
  readonly catalog: Catalog;
  readonly changes: JobChangeFeed;
  readonly replication: ReplicationStatusReader;
  /** The RPO watch; absent: no RPO gauges. */
  readonly rpo?: { entries(): RpoEntry[] };
}

/** Registers the controller's metrics; returns the function that stops observing job changes. */
export function registerControllerMetrics({ registry, catalog, changes, replication, rpo }: ControllerMetricsDeps): () => void {
  const registers = [registry];
  if (rpo) registerRpoMetrics(registers, rpo);
  new Gauge({
    name: 'bulwark_jobs',
    help: 'Jobs in the catalog by kind and state (every kind and state, 0 included).',
    labelNames: ['kind', 'state'],
    registers,
    collect() {
      this.reset();
      for (const kind of JobKind.options) for (const state of JobStates) this.set({ kind, state }, 0);
      for (const row of catalog.countsForMetrics().jobs) this.set({ kind: row.kind, state: row.state }, row.count);
    },
  });
  new Counter({
    name: 'bulwark_repairs_total',
    help: 'Repairs recorded in the catalog, by the site that healed and the damaged object (chunk, index, manifest).',
    labelNames: ['site', 'object'],
    registers,
    collect() {
      this.reset();
      for (const row of catalog.countsForMetrics().repairs) this.inc({ site: row.site, object: row.object }, row.count);
    },
  });
  new Gauge({
    name: 'bulwark_damage_alerts_open',
    help: 'Open damage alerts (damage no peer could heal) by site.',
    labelNames: ['site'],
    registers,
    collect() {
      this.reset();
      for (const row of catalog.countsForMetrics().openAlerts) this.set({ site: row.site }, row.count);
    },
  });
  new Gauge({
    name: 'bulwark_workers',
    help: 'Workers known to the controller by kind (agent, storage) and state (online, offline).',
    labelNames: ['kind', 'state'],
    registers,
    collect() {
      this.reset();
      for (const kind of ['agent', 'storage']) for (const state of ['online', 'offline']) this.set({ kind, state }, 0);
      for (const w of catalog.listWorkers()) this.inc({ kind: w.kind, state: w.state });
    },
  });

  new Gauge({
    name: 'bulwark_replication_lag_seconds',
    help: 'Per replication pair and VM: 0 when the replica holds the primary newest backup, else how long since the oldest backup it lacks was made.',
    labelNames: ['from', 'to', 'vm'],
    registers,
    // One status read per scrape fills the three replication gauges. prom-client reads the
    // metrics in registration order, each right after its own (synchronous) collect: the two
    // filled here are registered after this one, so a scrape reads what this collect left.
    collect() {
      const status = replication.status();
      for (const g of [this, behind, lastSuccess]) g.reset();
      for (const pair of status.pairs) {
        const p = { from: pair.from, to: pair.to };
        if (pair.lastSuccessAt !== null) lastSuccess.set(p, Date.parse(pair.lastSuccessAt) / 1000);
        for (const vm of pair.vms) {
          this.set({ ...p, vm: vm.vm }, vm.lagMs / 1000);
          behind.set({ ...p, vm: vm.vm }, vm.notYetReplicated);
        }
      }
    },
  });
  const behind = new Gauge({
    name: 'bulwark_replication_backups_behind',
    help: 'Per replication pair and VM: backups at the primary, newer than the replica newest, not yet at the replica.',
    labelNames: ['from', 'to', 'vm'],
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'bulwark_replication_last_success_timestamp_seconds',
    help: 'Per replication pair: when its newest successful sync finished (Unix time); absent: never.',
    labelNames: ['from', 'to'],
    registers,
  });

  const durations = new Histogram({
    name: 'bulwark_job_duration_seconds',
    help: 'Finished jobs by kind and final state: seconds from start (or, never started, from creation) to finish.',
    labelNames: ['kind', 'state'],
    buckets: JOB_DURATION_BUCKETS_SECONDS,
    registers,
  });
  const seen = new Set<string>();
  return changes.subscribeAll((jobId) => {
    if (seen.has(jobId)) return;
    const job = catalog.getJob(jobId);
    if (!job || job.finishedAt === null) return;
    seen.add(jobId);
    if (seen.size > SEEN_FINISHED_LIMIT) seen.delete(seen.values().next().value ?? jobId);
    const seconds = Math.max(0, Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt)) / 1000;
    durations.observe({ kind: job.kind, state: job.state }, seconds);
  });
}

// --- RPO watch ---
/** The RPO gauges, filled from one evaluation per scrape (the first one's collect fills the others). */
function registerRpoMetrics(registers: Registry[], rpo: { entries(): RpoEntry[] }): void {
  new Gauge({
    name: 'bulwark_rpo_breached_pairs',
    help: 'VM/site pairs whose newest good copy is older than their RPO target, or which have none.',
    registers,
    collect() {
      const entries = rpo.entries();
      for (const g of [this, age, target]) g.reset();
      this.set(entries.filter((e) => e.state === 'breached').length);
      for (const e of entries) {
        const labels = { vm: e.vm, site: e.site };
        age.set(labels, e.ageMs === null ? Number.POSITIVE_INFINITY : e.ageMs / 1000);
        target.set(labels, e.rpoMs / 1000);
      }
    },
  });
  const age = new Gauge({
    name: 'bulwark_rpo_age_seconds',
    help: 'Per watched VM and site: the age of the newest good copy (+Inf: none).',
    labelNames: ['vm', 'site'],
    registers,
  });
  const target = new Gauge({
    name: 'bulwark_rpo_target_seconds',
    help: 'Per watched VM and site: the RPO target (the smallest of the policies that want copies there).',
    labelNames: ['vm', 'site'],
    registers,
  });
}
