/**
 * Prune: applies retention rules to the committed backups (per VM, on storage-assigned times)
 * and deletes those no rule keeps. A dry run only reports. Each deletion removes the whole
 * backup directory atomically (Datastore.removeBackup: manifest and indexes at once); chunks are
 * left to garbage collection. Locked backups and parents of open sessions are never deleted:
 * retention keeps them, and removeBackup refuses them again under its lock, should a lock or a
 * session have appeared since the decision.
 */
import type { Clock } from '../../shared/clock.js';
import { PreconditionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { PruneJobParams } from '../../shared/messages/jobs.js';
import type { PruneResult } from '../../shared/messages/results.js';
import type { Datastore } from './datastore.js';
import { selectRetained } from './retention.js';

export interface PruneOptions {
  readonly datastore: Datastore;
  readonly site: string;
  readonly params: PruneJobParams;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

export async function runPrune(opts: PruneOptions): Promise<PruneResult> {
  const { datastore, params, clock, log } = opts;
  const startedMs = clock.nowMs();
  const parents = datastore.openSessionParents();
  const candidates = datastore.catalog.list(params.vm).map((m) => ({
    backupId: m.backupId,
    vm: m.vm,
    createdAt: m.createdAt,
    lock: datastore.marksOf(m.backupId).lock,
    parentOfOpenSession: parents.has(m.backupId),
  }));
  const { kept, removed } = selectRetained(candidates, params.keep, clock.nowMs());
  const done: PruneResult['removed'] = [];
  if (params.dryRun) {
    done.push(...removed);
  } else {
    for (const decision of removed) {
      opts.signal?.throwIfAborted();
      try {
        await datastore.removeBackup(decision.backupId);
        done.push(decision);
      } catch (err) {
        if (!(err instanceof PreconditionError)) throw err;
        kept.push({ ...decision, keptBy: [err.message] });
      }
    }
  }
  log.info({ dryRun: params.dryRun, kept: kept.length, removed: done.length, vm: params.vm ?? null }, 'prune finished');
  return { site: opts.site, dryRun: params.dryRun, kept, removed: done, durationMs: clock.nowMs() - startedMs };
}
