/**
 * Catalog rebuild: records in the catalog the backup copies a storage holds, from the summaries
 * of its self-describing manifests (docs/DATASTORE.md), for when the controller's database is
 * lost or behind. Storages are the source of truth for what exists; the catalog is an index.
 *
 * Key terms: a *copy* is one backup at one site (catalog key `(backupId, site)`). The import is
 * additive and idempotent: a copy the catalog lacks is inserted; a copy it has as pruned but the
 * storage holds again is made present again; a known present copy keeps its row, except that
 * its verify time and lock move forward when the storage's are newer (they only ever grow, as
 * event-applier.ts applies them). Nothing is removed: a copy the catalog lists but the storage
 * does not hold is only counted (`notAtStorage`); a prune job is what records a removal.
 *
 * All the writes of one import are one catalog transaction: a crash leaves the catalog as it was
 * before or with every copy recorded, and running it again finishes the job.
 */
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { BackupRow, BackupUpdate, Catalog } from '../catalog/catalog.js';

/** One backup as a storage lists it (BlockStore.ListBackups), decoded; empty strings are absent. */
export interface StoredBackup {
  readonly backupId: string;
  readonly vm: string;
  readonly createdAt: string;
  readonly mode: string;
  readonly parentBackupId: string;
  readonly jobId: string;
  readonly disks: readonly { readonly name: string; readonly sizeBytes: number }[];
  readonly verifiedAt: string;
  readonly lockedUntil: string;
  readonly damage: string;
}

/** What a storage holds: its datastore's site and every backup in it. */
export interface StorageListing {
  readonly site: string;
  readonly backups: readonly StoredBackup[];
}

/** Reads a storage's datastore over the wire (port; the adapter is controller/api/grpc-storage-reader.ts). */
export interface StorageReader {
  /** The datastore's site and its backups; UNAVAILABLE when the storage cannot be reached. */
  list(address: string): Promise<StorageListing>;
}

export interface CatalogImportRequest {
  /** The storage's address; absent: the online storage of `site` as its heartbeats give it. */
  readonly storageAddress?: string | undefined;
  /** The site to record the copies at; absent: the datastore's own site. */
  readonly site?: string | undefined;
}

export interface CatalogImportReport {
  readonly site: string;
  readonly storageAddress: string;
  readonly found: number;
  readonly added: number;
  readonly alreadyKnown: number;
  readonly restored: number;
  readonly updated: number;
  readonly notAtStorage: number;
  readonly skipped: readonly { readonly backupId: string; readonly reason: string }[];
}

export interface CatalogImporterOptions {
  readonly catalog: Catalog;
  readonly storages: StorageReader;
  readonly clock: Clock;
  readonly log: Logger;
}

/** An ISO-8601 time, normalised to the catalog's one format (UTC, milliseconds) so times compare as strings. */
const IsoTime = z
  .string()
  .refine((t) => !Number.isNaN(Date.parse(t)), 'must be an ISO-8601 time')
  .transform((t) => new Date(Date.parse(t)).toISOString());
const emptyAsNull = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? null : v), schema.nullable());

/** A listed backup as the catalog records it; the storage is trusted for content, not for shape. */
const ListedBackup = z.object({
  backupId: z.string().min(1, 'must not be empty').regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"'),
  vm: z.string().min(1, 'must not be empty'),
  createdAt: IsoTime,
  mode: z.enum(['full', 'incremental'], { error: 'must be full or incremental' }),
  parentBackupId: emptyAsNull(z.string()),
  jobId: z.string(),
  disks: z.array(z.object({ name: z.string().min(1), sizeBytes: z.number().int().nonnegative() })).min(1, 'must list at least one disk'),
  verifiedAt: emptyAsNull(IsoTime),
  damage: emptyAsNull(z.string()),
});

export class CatalogImporter {
  constructor(private readonly opts: CatalogImporterOptions) {}

  /** Lists the storage's backups and records every copy the catalog lacks; see the file's note. */
  async importFrom(req: CatalogImportRequest): Promise<CatalogImportReport> {
    const { catalog, storages, clock } = this.opts;
    const storageAddress = req.storageAddress ?? this.storageOf(req.site);
    const listing = await storages.list(storageAddress);
    const site = req.site ?? listing.site;
    if (listing.site !== site) {
      throw new PreconditionError(`the storage at ${storageAddress} keeps the datastore of site ${listing.site}, not ${site}`, {
        storageAddress,
        site,
        datastoreSite: listing.site,
      });
    }
    const log = this.opts.log.child({ site, storageAddress });
    const at = clock.nowIso();
    const counts = { added: 0, alreadyKnown: 0, restored: 0, updated: 0 };
    const skipped: { backupId: string; reason: string }[] = [];
    const listed = new Set<string>();

    catalog.transaction(() => {
      for (const stored of listing.backups) {
        const parsed = ListedBackup.safeParse(stored);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          skipped.push({ backupId: stored.backupId, reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` });
          continue;
        }
        const backup = parsed.data;
        listed.add(backup.backupId);
        const lock = lockTime(stored.lockedUntil);
        if (stored.lockedUntil !== '' && lock === null) {
          log.warn({ backupId: backup.backupId, lockedUntil: stored.lockedUntil }, 'lock is not a time: recorded unlocked (the storage still enforces it)');
        }
        const existing = catalog.getBackupCopy(backup.backupId, site);
        if (!existing) {
          const damaged = backup.damage !== null;
          catalog.insertBackup({
            backupId: backup.backupId,
            site,
            vm: backup.vm,
            createdAt: backup.createdAt,
            mode: backup.mode,
            parentBackupId: backup.parentBackupId,
            jobId: backup.jobId,
            sizeBytes: backup.disks.reduce((sum, d) => sum + d.sizeBytes, 0),
            disks: backup.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
            verifiedAt: backup.verifiedAt,
            state: damaged ? 'damaged' : 'ok',
            stateAt: damaged ? at : backup.verifiedAt,
            lockedUntil: lock,
            prunedAt: null,
            seenAt: at,
          });
          counts.added++;
          continue;
        }
        if (existing.prunedAt !== null) {
          // The storage holds it now, whatever the catalog recorded: present again, with the
          // storage's marks (those of the row were of the copy before its prune).
          catalog.updateBackup(backup.backupId, site, {
            prunedAt: null,
            seenAt: at,
            verifiedAt: backup.verifiedAt,
            lockedUntil: lock,
            state: backup.damage !== null ? 'damaged' : 'ok',
            stateAt: at,
          });
          counts.restored++;
          continue;
        }
        counts.alreadyKnown++;
        const update: BackupUpdate = {
          ...(newer(backup.verifiedAt, existing.verifiedAt) ? { verifiedAt: backup.verifiedAt } : {}),
          ...(newer(lock, existing.lockedUntil) ? { lockedUntil: lock } : {}),
        };
        if (Object.keys(update).length > 0) {
          catalog.updateBackup(backup.backupId, site, update);
          counts.updated++;
        }
      }
    });

    const notAtStorage = catalog.listBackups({ site }).filter((b: BackupRow) => !listed.has(b.backupId)).length;
    const report = { site, storageAddress, found: listing.backups.length, ...counts, notAtStorage, skipped };
    log.info({ ...report, skipped: skipped.length }, 'catalog imported from storage');
    if (skipped.length > 0) log.warn({ skipped }, 'backups listed by the storage but not recorded');
    return report;
  }

  /** The address of the online storage of a site, from its heartbeats. */
  private storageOf(site: string | undefined): string {
    if (site === undefined) throw new ValidationError('storage_address', 'give a storage address or a site');
    const storages = this.opts.catalog.listWorkers().filter((w) => w.kind === 'storage' && w.site === site);
    const online = storages.find((w) => w.state === 'online' && w.address !== null);
    if (online?.address) return online.address;
    if (storages.length === 0) throw new NotFoundError('storage at site', site);
    throw new PreconditionError(`the storage of site ${site} is offline: start it, or give its address with --storage`, { site });
  }
}

/** The storage's lock as a catalog time; null when none, or when it is not a time (a damaged lock file). */
function lockTime(text: string): string | null {
  const ms = Date.parse(text);
  return text === '' || Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function newer(candidate: string | null, current: string | null): boolean {
  return candidate !== null && (current === null || candidate > current);
}
