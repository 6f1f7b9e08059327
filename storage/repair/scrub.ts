/**
 * The background scrub: re-reads everything the datastore holds, at a bounded rate, and heals
 * what is bad through the repair service — every backup's manifest and indexes, then every
 * chunk they reference, once each, in digest order. Missing chunks are found too (the walk
 * starts from the indexes, not from the files present).
 *
 * A pass is resumable: the digest reached is saved in repair/scrub.json every few seconds, so a
 * restarted storage carries on where it stopped instead of starting over. Reads go through a
 * token bucket (bytes per second), so a scrub never starves backups and restores of disk time.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { DIGEST_BYTES, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeCheckedJson, encodeCheckedJson } from '../../shared/format/checked-json.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import { writeFileAtomic } from '../../shared/fs/atomic-file.js';
import type { TokenBucket } from '../../shared/flow/token-bucket.js';
import type { Logger } from '../../shared/log.js';
import type { Datastore } from '../datastore/datastore.js';
import { isDamage, problemOf, type RepairService } from './repair-service.js';

/** Chunks a scrub reads and checks at once. */
const CHUNKS_AT_ONCE = 4;

const ScrubState = z.strictObject({
  passStartedAt: z.iso.datetime(),
  /** Chunks with a digest (hex) up to and including this one were checked in this pass. */
  cursor: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  lastPassEndedAt: z.iso.datetime().nullable(),
});
type ScrubState = z.infer<typeof ScrubState>;

/** What one pass found and did. */
export interface ScrubPassResult {
  readonly backupsChecked: number;
  readonly chunksChecked: number;
  readonly bytesChecked: number;
  readonly damaged: number;
  readonly repaired: number;
  readonly unrecoverable: number;
  /** True when the pass started from a saved cursor (a resumed pass). */
  readonly resumed: boolean;
  readonly durationMs: number;
}

export interface ScrubOptions {
  readonly datastore: Datastore;
  readonly repair: RepairService;
  /** Paces the bytes read. */
  readonly bucket: Pick<TokenBucket, 'take'>;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the cursor is saved. */
  readonly saveEveryMs?: number;
}

export class Scrubber {
  private readonly statePath: string;

  constructor(private readonly opts: ScrubOptions) {
    this.statePath = join(opts.datastore.dir, 'repair', 'scrub.json');
  }

  /** When the last complete pass ended (null: never). */
  async lastPassEndedAt(): Promise<string | null> {
    return (await this.loadState())?.lastPassEndedAt ?? null;
  }

  /** Runs one pass to its end (or until `signal` aborts it, the cursor saved). */
  async runPass(signal?: AbortSignal): Promise<ScrubPassResult> {
    const { datastore, repair, clock, log } = this.opts;
    const startedMs = clock.nowMs();
    const saved = await this.loadState();
    const resumed = saved !== undefined && saved.cursor !== null;
    const state: ScrubState = resumed ? { ...saved } : { passStartedAt: clock.nowIso(), cursor: null, lastPassEndedAt: saved?.lastPassEndedAt ?? null };
    const counts = { backupsChecked: 0, chunksChecked: 0, bytesChecked: 0, damaged: 0, repaired: 0, unrecoverable: 0 };
    const recordedBefore = repair.journal.recordedCount;

    // Files first: manifests and indexes (small), each healed when bad.
    const digests = new Set<string>();
    for (const entry of await datastore.scanAllBackupDirs()) {
      signal?.throwIfAborted();
      counts.backupsChecked++;
      try {
        await repair.readManifest(entry.backupId, { trigger: 'scrub' });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        counts.unrecoverable++;
        continue;
      }
      const manifest = datastore.catalog.get(entry.backupId);
      for (const disk of manifest?.disks ?? []) {
        let file: Buffer;
        try {
          file = await repair.readIndex(entry.backupId, disk.name, { trigger: 'scrub' });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          counts.unrecoverable++;
          continue;
        }
        const index = decodeFixedIndex(file);
        for (let i = 0; i < index.chunkCount; i++) {
          const d = index.digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
          if (!isZeroDigest(d)) digests.add(d.toString('hex'));
        }
      }
    }

    // Then every referenced chunk once, in digest order, from the cursor on: a few at a time
    // (reads, checks and heals overlap), the cursor moved past a group once all of it is done.
    const ordered = [...digests].sort().filter((hex) => state.cursor === null || hex > state.cursor);
    let lastSaveMs = clock.nowMs();
    const checkOne = async (hex: string): Promise<void> => {
      const digest = Buffer.from(hex, 'hex');
      let blob: Buffer | undefined;
      try {
        blob = await datastore.chunks.get(digest);
        if (blob === undefined) throw new AppError('NOT_FOUND', 'missing');
        await this.opts.bucket.take(blob.length);
        await datastore.blobChecker.check(digest, blob);
      } catch (err) {
        if (!(err instanceof AppError) || !(isDamage(err) || err.code === 'NOT_FOUND')) throw err;
        counts.damaged++;
        try {
          blob = await repair.healChunk(digest, blob === undefined ? 'missing' : problemOf(err), { trigger: 'scrub' });
        } catch (healErr) {
          if (!(healErr instanceof AppError)) throw healErr;
          counts.unrecoverable++;
        }
      }
      counts.chunksChecked++;
      counts.bytesChecked += blob?.length ?? 0;
    };
    for (let at = 0; at < ordered.length; at += CHUNKS_AT_ONCE) {
      if (signal?.aborted) {
        await this.saveState(state);
        signal.throwIfAborted();
      }
      const group = ordered.slice(at, at + CHUNKS_AT_ONCE);
      await Promise.all(group.map(checkOne));
      state.cursor = group[group.length - 1] ?? state.cursor;
      if (clock.nowMs() - lastSaveMs >= (this.opts.saveEveryMs ?? 5000)) {
        await this.saveState(state);
        lastSaveMs = clock.nowMs();
      }
    }
    // Alerts from earlier passes: healed since, or still unrecoverable.
    await repair.recheckAlerts();
    counts.repaired = repair.journal.recordedCount - recordedBefore;
    const endedAt = clock.nowIso();
    await this.saveState({ passStartedAt: state.passStartedAt, cursor: null, lastPassEndedAt: endedAt });
    const result: ScrubPassResult = { ...counts, resumed, durationMs: clock.nowMs() - startedMs };
    log.info({ ...result }, 'scrub pass finished');
    return result;
  }

  private async loadState(): Promise<ScrubState | undefined> {
    let file: Buffer;
    try {
      file = await readFile(this.statePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return decodeCheckedJson(file, 'bulwark-scrub', 1, ScrubState, this.statePath);
    } catch (err) {
      this.opts.log.warn({ err }, 'scrub.json is damaged: starting a new pass');
      return undefined;
    }
  }

  private async saveState(state: ScrubState): Promise<void> {
    await writeFileAtomic(this.statePath, encodeCheckedJson('bulwark-scrub', 1, { ...state }), { tmpDir: join(this.opts.datastore.dir, 'tmp') });
  }
}

/**
 * Runs scrub passes forever: the next pass starts `intervalMs` after the last one ended (at once
 * when a pass was interrupted, or none ever ran). stop() aborts a running pass (its cursor is
 * saved) and waits for it.
 */
export class ScrubLoop {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly scrubber: Scrubber,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const ended = await this.scrubber.lastPassEndedAt();
      const dueMs = ended === null ? 0 : Date.parse(ended) + this.intervalMs - this.clock.nowMs();
      if (dueMs > 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, dueMs);
        });
        if (this.abort.signal.aborted) return;
      }
      try {
        await this.scrubber.runPass(this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.log.error({ err }, 'scrub pass failed; the next one starts after the interval');
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, Math.min(this.intervalMs, 60_000));
        });
      }
    }
  }
}
