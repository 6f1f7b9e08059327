/**
 * The repair service of one storage: heals a damaged or missing chunk, fixed index or manifest
 * from a peer site, in whichever direction (A from B, B from A), wherever the damage is met —
 * on the read path (GetChunks for restores and syncs, GetManifest, GetIndex), by verify, by the
 * background scrub, at start.
 *
 * A heal: the damaged local copy is moved to quarantine (never overwritten in place), the peers
 * are asked in order for a good copy (telling each which sites not to ask in turn, so two sites
 * never ask each other in a loop), the copy is checked as storage can (blob structure and CRC,
 * and the digest when the datastore is unencrypted; an index against its manifest's SHA-256; a
 * manifest against its own checksum and its directory), written atomically, recorded in the
 * repair journal (digest, affected backups and byte ranges, peer, time, bytes) and served. A heal
 * of one object runs once however many readers meet the damage at the same time.
 *
 * When no peer can supply a good copy, an alert is raised (naming the VMs, disks and byte ranges
 * that depend on the object), the affected backups report the damage, and the reader gets an
 * UnrecoverableDamageError. The alert is resolved when the object is found good again (a later
 * heal, a backup that re-sent the chunk) or nothing uses it any more.
 */
import type { Clock } from '../../shared/clock.js';
import { AppError, ChunkMissingError, CorruptDataError, NotFoundError, PreconditionError, UnrecoverableDamageError, errorMessage } from '../../shared/errors.js';
import { digestHex } from '../../shared/format/chunk-digest.js';
import { decodeManifest, type Manifest } from '../../shared/format/manifest.js';
import type { Logger } from '../../shared/log.js';
import type { AffectedRange, RepairTrigger } from '../../shared/messages/events.js';
import type { BackupDir, Datastore } from '../datastore/datastore.js';
import { affectedRanges, describeRanges, wholeDisks } from './affected-ranges.js';
import type { PeerReadOptions, PeerStore } from '../replication/peer-store.js';
import { ChunkFetcher } from './chunk-fetcher.js';
import type { PeerProvider } from './peer-directory.js';
import type { DamageKey, RepairJournal } from './repair-journal.js';

/** How long verify, scrub and start-up heals wait for a link to a peer that is reconnecting. */
const PATIENT_PEER_MS = 10_000;

/** Where a heal was asked from, and which sites it must not ask. */
export interface HealContext {
  readonly trigger: RepairTrigger;
  /** Sites not to ask (the site whose request led here, and those before it). */
  readonly excludeSites?: readonly string[];
}

export interface RepairServiceOptions {
  readonly datastore: Datastore;
  readonly site: string;
  readonly peers: PeerProvider;
  readonly journal: RepairJournal;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The problem a check found, for records and alerts ("missing", "crc mismatch", ...). */
export function problemOf(err: unknown): string {
  if (err instanceof ChunkMissingError) return 'missing';
  if (err instanceof NotFoundError) return 'missing';
  if ((err instanceof CorruptDataError || err instanceof PreconditionError) && typeof err.details.problem === 'string') return err.details.problem;
  return errorMessage(err);
}

/** Errors that mean "this copy is bad or gone" rather than "something else failed". */
export function isDamage(err: unknown): boolean {
  return err instanceof ChunkMissingError || err instanceof NotFoundError || err instanceof CorruptDataError || err instanceof PreconditionError;
}

/** One heal from peers, as fromPeers runs it. */
interface PeerHeal<T> {
  readonly key: DamageKey;
  /** How the record and the alert name the object. */
  readonly names: { readonly digest: string | null; readonly backupId: string | null; readonly disk: string | null };
  /** "chunk 4f1c…", "the index of disk d of backup B", for logs. */
  readonly what: string;
  readonly problem: string;
  readonly ctx: HealContext;
  /** Gets a good copy from one peer and checks it; `write` puts it in place; `affected` when known now (else the journal fills it in). */
  fetch(peer: PeerStore, options: PeerReadOptions): Promise<{ bytes: number; result: T; write: () => Promise<void>; affected?: AffectedRange[] }>;
  /** What the alert says when no peer could. */
  unrecoverable(tried: readonly { site: string; error: string }[]): Promise<{ affected: AffectedRange[]; message: string }>;
}

export class RepairService {
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Heals running at once share their calls to a peer. */
  private readonly fetcher = new ChunkFetcher();
  /** Peers whose link failed lately: not waited for until this time (ms), so a cut link costs one wait, not one per object. */
  private readonly downUntil = new Map<string, number>();

  constructor(private readonly opts: RepairServiceOptions) {}

  get site(): string {
    return this.opts.site;
  }

  get journal(): RepairJournal {
    return this.opts.journal;
  }

  /** A checked blob of the digest: the local one when sound, else healed from a peer. */
  async readChunk(digest: Buffer, ctx: HealContext): Promise<Buffer> {
    try {
      return await this.opts.datastore.readBlobChecked(digest);
    } catch (err) {
      if (!isDamage(err)) throw err;
      return this.healChunk(digest, problemOf(err), ctx);
    }
  }

  /**
   * Heals one chunk whose local copy was found bad (`problem`): quarantine, fetch, check, write,
   * record. Resolves with the good blob; UnrecoverableDamageError (alert raised) when no peer can.
   */
  healChunk(digest: Buffer, problem: string, ctx: HealContext): Promise<Buffer> {
    const hex = digestHex(digest);
    return this.once(`chunk:${hex}`, async () => {
      const { datastore } = this.opts;
      // Someone may have healed or re-sent it since the caller looked.
      const local = await datastore.chunks.get(digest);
      if (local) {
        try {
          await datastore.blobChecker.check(digest, local);
          await this.opts.journal.resolve({ object: 'chunk', digest: hex }, 'the chunk is sound again');
          return local;
        } catch (err) {
          if (!isDamage(err)) throw err;
          problem = problemOf(err);
          await datastore.chunks.quarantine(digest, problem);
          this.opts.log.warn({ digest: hex, problem }, 'damaged chunk quarantined');
        }
      }
      return this.fromPeers<Buffer>({
        key: { object: 'chunk', digest: hex },
        names: { digest: hex, backupId: null, disk: null },
        what: `chunk ${hex}`,
        problem,
        ctx,
        fetch: async (peer, options) => {
          const blob = await this.fetcher.fetch(peer, digest, options);
          await datastore.blobChecker.check(digest, blob);
          return { bytes: blob.length, result: blob, write: async () => void (await datastore.chunks.put(digest, blob)) };
        },
        unrecoverable: async (tried) => {
          const ranges = (await affectedRanges(datastore, new Set([hex]))).get(hex) ?? [];
          return {
            affected: ranges,
            message: `chunk ${hex} is ${problem} at site ${this.opts.site} and no peer could supply it (${this.triedText(tried)}): ${describeRanges(ranges)} cannot be restored from this site`,
          };
        },
      });
    });
  }

  /** A backup's manifest file, checked; a lost or damaged one is healed from a peer first. */
  async readManifest(backupId: string, ctx: HealContext): Promise<Buffer> {
    try {
      return (await this.opts.datastore.readManifestChecked(backupId)).file;
    } catch (err) {
      if (!isDamage(err)) throw err;
      const entry = await this.opts.datastore.findBackupDir(backupId);
      if (!entry) throw err; // Not a backup of this datastore at all.
      await this.healManifest(entry, problemOf(err), ctx);
      return (await this.opts.datastore.readManifestChecked(backupId)).file;
    }
  }

  /** One disk's index file, checked against the manifest; a lost or damaged one is healed first. */
  async readIndex(backupId: string, disk: string, ctx: HealContext): Promise<Buffer> {
    if (!this.opts.datastore.catalog.get(backupId)) await this.readManifest(backupId, ctx);
    try {
      return await this.opts.datastore.readIndexChecked(backupId, disk);
    } catch (err) {
      if (!isDamage(err) || (err instanceof NotFoundError && !this.opts.datastore.backup(backupId).disks.some((d) => d.name === disk))) throw err;
      await this.healIndex(backupId, disk, problemOf(err), ctx);
      return this.opts.datastore.readIndexChecked(backupId, disk);
    }
  }

  /** Heals a lost or damaged manifest from the first peer holding the same backup. */
  healManifest(entry: BackupDir, problem: string, ctx: HealContext): Promise<Manifest> {
    return this.once(`manifest:${entry.backupId}`, async () => {
      const { datastore } = this.opts;
      try {
        const current = await datastore.readManifestChecked(entry.backupId);
        await this.opts.journal.resolve({ object: 'manifest', backupId: entry.backupId }, 'the manifest is sound again');
        return current.manifest;
      } catch (err) {
        if (!isDamage(err)) throw err;
        problem = problemOf(err);
      }
      return this.fromPeers<Manifest>({
        key: { object: 'manifest', backupId: entry.backupId },
        names: { digest: null, backupId: entry.backupId, disk: null },
        what: `the manifest of backup ${entry.backupId}`,
        problem,
        ctx,
        fetch: async (peer, options) => {
          const file = await peer.getManifest(entry.backupId, options);
          const manifest = decodeManifest(file, `manifest of backup ${entry.backupId} from ${peer.site}`);
          return { bytes: file.length, result: manifest, affected: wholeDisks(manifest), write: () => datastore.replaceManifest(entry, file, problem).then(() => undefined) };
        },
        unrecoverable: (tried) =>
          Promise.resolve({
            affected: [{ backupId: entry.backupId, vm: entry.vm, disk: '(all)', offsetBytes: 0, lengthBytes: 0 }],
            message: `the manifest of backup ${entry.backupId} (VM ${entry.vm}) is ${problem} at site ${this.opts.site} and no peer could supply it (${this.triedText(tried)}): the whole backup cannot be restored from this site`,
          }),
      });
    });
  }

  /** Heals a lost or damaged index from the first peer holding the same backup. */
  healIndex(backupId: string, disk: string, problem: string, ctx: HealContext): Promise<void> {
    return this.once(`index:${backupId}/${disk}`, async () => {
      const { datastore } = this.opts;
      const manifest = datastore.backup(backupId);
      try {
        await datastore.readIndexChecked(backupId, disk);
        await this.opts.journal.resolve({ object: 'index', backupId, disk }, 'the index is sound again');
        return;
      } catch (err) {
        if (!isDamage(err)) throw err;
        problem = problemOf(err);
      }
      await this.fromPeers<undefined>({
        key: { object: 'index', backupId, disk },
        names: { digest: null, backupId, disk },
        what: `the index of disk ${disk} of backup ${backupId}`,
        problem,
        ctx,
        fetch: async (peer, options) => {
          const file = await peer.getIndex(backupId, disk, options);
          return { bytes: file.length, result: undefined, affected: wholeDisks(manifest, disk), write: () => datastore.replaceIndex(backupId, disk, file, problem) };
        },
        unrecoverable: (tried) =>
          Promise.resolve({
            affected: wholeDisks(manifest, disk),
            message: `the index of disk ${disk} of backup ${backupId} (VM ${manifest.vm}) is ${problem} at site ${this.opts.site} and no peer could supply it (${this.triedText(tried)}): that disk cannot be restored from this site`,
          }),
      });
    });
  }

  /**
   * After a crash: repairs whose write may or may not have happened are recorded when their
   * object is sound now, and dropped otherwise (to be healed again when met).
   */
  recoverIntents(): Promise<number> {
    const { datastore } = this.opts;
    return this.opts.journal.recoverIntents(async (record) => {
      try {
        if (record.object === 'chunk' && record.digest !== null) {
          const digest = Buffer.from(record.digest, 'hex');
          const blob = await datastore.chunks.get(digest);
          if (!blob) return false;
          await datastore.blobChecker.check(digest, blob);
        } else if (record.object === 'manifest' && record.backupId !== null) {
          await datastore.readManifestChecked(record.backupId);
        } else if (record.object === 'index' && record.backupId !== null && record.disk !== null) {
          await datastore.readIndexChecked(record.backupId, record.disk);
        }
        return true;
      } catch (err) {
        if (isDamage(err)) return false;
        throw err;
      }
    });
  }

  /** Heals the manifests found lost or damaged when the datastore opened (in the background at start). */
  async healDamagedAtOpen(): Promise<{ healed: number; unrecoverable: number }> {
    const outcome = { healed: 0, unrecoverable: 0 };
    for (const damaged of this.opts.datastore.damagedAtOpen.splice(0)) {
      const entry = await this.opts.datastore.findBackupDir(damaged.backupId);
      if (!entry) continue;
      try {
        await this.healManifest(entry, damaged.problem, { trigger: 'startup' });
        outcome.healed++;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        outcome.unrecoverable++;
      }
    }
    return outcome;
  }

  /**
   * Looks at every open alert again: resolved when its object is sound now (a backup re-sent
   * the chunk) or no backup uses it any more (pruned); otherwise a heal is tried once more.
   */
  async recheckAlerts(): Promise<void> {
    const { datastore, journal } = this.opts;
    for (const alert of journal.openAlerts()) {
      const affectedPresent = alert.affected.some((r) => datastore.catalog.get(r.backupId)) || (alert.backupId !== null && datastore.catalog.get(alert.backupId));
      try {
        if (alert.object === 'chunk' && alert.digest !== null) {
          if (!affectedPresent) {
            await journal.resolve({ object: 'chunk', digest: alert.digest }, 'no backup uses the chunk any more');
            continue;
          }
          await this.readChunk(Buffer.from(alert.digest, 'hex'), { trigger: 'scrub' });
        } else if (alert.object === 'index' && alert.backupId !== null && alert.disk !== null) {
          if (!datastore.catalog.get(alert.backupId)) {
            await journal.resolve({ object: 'index', backupId: alert.backupId, disk: alert.disk }, 'the backup was removed');
            continue;
          }
          await this.readIndex(alert.backupId, alert.disk, { trigger: 'scrub' });
        } else if (alert.object === 'manifest' && alert.backupId !== null) {
          if (!(await datastore.findBackupDir(alert.backupId))) {
            await journal.resolve({ object: 'manifest', backupId: alert.backupId }, 'the backup directory was removed');
            continue;
          }
          await this.readManifest(alert.backupId, { trigger: 'scrub' });
        }
        // Reaching here means the object read back sound: healChunk/heal* resolved the alert.
        if (alert.object === 'chunk' && alert.digest !== null) await journal.resolve({ object: 'chunk', digest: alert.digest }, 'the chunk is sound again');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
      }
    }
  }

  /**
   * The part every heal shares: ask the peers in order for a good copy (`fetch` gets and checks
   * it), write it between the journal's intent and record, resolve any alert on the object; when
   * no peer can, raise the alert and throw UnrecoverableDamageError.
   */
  private async fromPeers<T>(heal: PeerHeal<T>): Promise<T> {
    const { ctx, problem } = heal;
    const tried: { site: string; error: string }[] = [];
    for (const peer of this.opts.peers.list(ctx.excludeSites ?? [])) {
      try {
        const got = await heal.fetch(peer, this.peerOptions(ctx, peer.site));
        const record = { object: heal.key.object, ...heal.names, problem, trigger: ctx.trigger, peer: peer.site, bytes: got.bytes };
        await this.opts.journal.recordRepair(got.affected ? { ...record, affected: got.affected } : record, got.write);
        await this.opts.journal.resolve(heal.key, `repaired from ${peer.site}`);
        this.opts.log.info({ ...heal.names, peer: peer.site, bytes: got.bytes, problem, trigger: ctx.trigger }, `${heal.key.object} repaired`);
        return got.result;
      } catch (err) {
        tried.push({ site: peer.site, error: this.peerFailed(peer.site, err) });
        this.opts.log.warn({ ...heal.names, peer: peer.site, err: errorMessage(err) }, `peer could not supply ${heal.what}`);
      }
    }
    const { affected, message } = await heal.unrecoverable(tried);
    const alert = await this.opts.journal.raise({ object: heal.key.object, ...heal.names, problem, peersTried: tried, affected, message });
    throw new UnrecoverableDamageError(alert.message, { ...heal.names, alertId: alert.alertId, problem });
  }

  /**
   * What a peer is asked with: the sites it must not ask in turn, and (unless a reader waits, or
   * the peer's link failed lately) patience with a reconnecting link.
   */
  private peerOptions(ctx: HealContext, peer: string): PeerReadOptions {
    const excludeSites = [...(ctx.excludeSites ?? []), this.opts.site];
    const hurried = ctx.trigger === 'read' || ctx.trigger === 'sync' || (this.downUntil.get(peer) ?? 0) > this.opts.clock.nowMs();
    return hurried ? { excludeSites } : { excludeSites, waitForReadyMs: PATIENT_PEER_MS };
  }

  /** Notes a peer's failure: an unreachable one is not waited for during the next while. */
  private peerFailed(peer: string, err: unknown): string {
    if (err instanceof AppError && (err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED')) {
      this.downUntil.set(peer, this.opts.clock.nowMs() + PATIENT_PEER_MS * 3);
    }
    return errorMessage(err);
  }

  private triedText(tried: readonly { site: string; error: string }[]): string {
    return tried.length === 0 ? 'no peer is configured or reachable' : tried.map((t) => `${t.site}: ${t.error}`).join('; ');
  }

  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const run = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    return run;
  }
}
