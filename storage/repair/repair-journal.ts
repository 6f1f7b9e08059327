/**
 * The repair journal of one storage: a durable outbox of the events repair emits (`repair`,
 * `alert.raised`, `alert.resolved`) and the open damage alerts, under <datastore>/repair/.
 *
 *   repair/outbox/<eventId>.intent.json    a repair about to write its good copy
 *   repair/outbox/<eventId>.pending.json   a repair done, its affected ranges not computed yet
 *   repair/outbox/<eventId>.json           an event ready to publish (removed once NATS stored it)
 *   repair/alerts.json                     open alerts (self-checking JSON, rewritten atomically)
 *
 * A repair is recorded exactly once, whatever instant a crash hits: its intent is written
 * before the good copy, and renamed into a record after it; at start, an intent whose object is
 * now sound becomes a record, any other is dropped (the heal runs again when the damage is met
 * again). Every file is written atomically, pending records get their ranges at the next
 * flush, and events left in the outbox are published again at start (event ids are the
 * JetStream msgIDs: a repeat is stored once, and the controller applies each event once).
 * Computing ranges reads every index, so it runs once per batch of repairs, not once per chunk.
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { decodeCheckedJson, encodeCheckedJson, parseJsonObject } from '../../shared/format/checked-json.js';
import { writeFileAtomic } from '../../shared/fs/atomic-file.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { DamageAlert, RepairRecord, WorkerEvent, type AffectedRange } from '../../shared/messages/events.js';
import { DirSyncer } from '../datastore/dir-syncer.js';

/** Where events go: JetStream in production (EventPublisher), a list in tests. */
export interface EventSink {
  publish(event: WorkerEvent): Promise<void>;
}

/** Identifies a damaged object: one open alert per key. */
export type DamageKey = { readonly object: 'chunk'; readonly digest: string } | { readonly object: 'index'; readonly backupId: string; readonly disk: string } | { readonly object: 'manifest'; readonly backupId: string };

export function keyOf(alert: Pick<DamageAlert, 'object' | 'digest' | 'backupId' | 'disk'>): string {
  if (alert.object === 'chunk') return `chunk:${alert.digest ?? ''}`;
  if (alert.object === 'index') return `index:${alert.backupId ?? ''}/${alert.disk ?? ''}`;
  return `manifest:${alert.backupId ?? ''}`;
}

export function damageKeyString(key: DamageKey): string {
  if (key.object === 'chunk') return `chunk:${key.digest}`;
  if (key.object === 'index') return `index:${key.backupId}/${key.disk}`;
  return `manifest:${key.backupId}`;
}

const AlertsFile = z.strictObject({ alerts: z.array(DamageAlert) });

/** Recent repairs kept in memory for reports; older ones are only in the controller's catalog. */
const RECENT_KEPT = 1000;

export interface RepairJournalOptions {
  /** <datastore>/repair */
  readonly dir: string;
  /** The datastore's tmp/ (same filesystem). */
  readonly tmpDir: string;
  readonly site: string;
  readonly worker: string;
  readonly sink: EventSink | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  /** The ranges that use each chunk (hex), computed for a batch. */
  readonly resolveRanges: (hexes: ReadonlySet<string>) => Promise<Map<string, AffectedRange[]>>;
  /** How long a repair waits for others to share one range computation. */
  readonly batchDelayMs?: number;
  /** Called once per repair recorded (also for one recovered at start), after it is durable. */
  readonly onRecorded?: (record: RepairRecord) => void;
}

export class RepairJournal {
  private readonly outbox: string;
  /** Group fsync of the outbox: concurrent repairs share each directory fsync. */
  private readonly syncer = new DirSyncer();
  private readonly alerts = new Map<string, DamageAlert>();
  private flushing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The most recent repairs recorded since start (at most RECENT_KEPT), newest last: what verify and scrub report. */
  private readonly recent: RepairRecord[] = [];
  private count = 0;

  constructor(private readonly opts: RepairJournalOptions) {
    this.outbox = join(opts.dir, 'outbox');
  }

  /** Creates the folders and loads the open alerts; a damaged alerts file is kept aside and logged. */
  async open(): Promise<void> {
    await mkdir(this.outbox, { recursive: true });
    const path = join(this.opts.dir, 'alerts.json');
    let file: Buffer | undefined;
    try {
      file = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (file) {
      try {
        for (const alert of decodeCheckedJson(file, 'bulwark-alerts', 1, AlertsFile, path).alerts) this.alerts.set(keyOf(alert), alert);
      } catch (err) {
        // Alerts are re-raised by the next scrub or verify that meets the damage again.
        this.opts.log.error({ err }, 'alerts.json is damaged: open alerts will be raised again when the damage is met');
      }
    }
    this.schedule(0);
  }

  /**
   * Runs one repair's write (`write`, which puts the good copy in place) between a durable
   * intent and its record, so a crash at any instant leaves it recorded once or not at all
   * (see recoverIntents). A chunk's affected ranges are filled in by the next flush.
   */
  async recordRepair(
    record: Omit<RepairRecord, 'repairId' | 'site' | 'at' | 'affected'> & { affected?: AffectedRange[] },
    write: () => Promise<void>,
  ): Promise<RepairRecord> {
    const full: RepairRecord = RepairRecord.parse({
      ...record,
      repairId: newId(this.opts.clock.nowMs()),
      site: this.opts.site,
      at: this.opts.clock.nowIso(),
      affected: record.affected ?? [],
    });
    const intent = join(this.outbox, `${full.repairId}.intent.json`);
    await writeFileAtomic(intent, Buffer.from(JSON.stringify(full)), { tmpDir: this.opts.tmpDir, syncDir: false });
    await this.syncer.sync([this.outbox]);
    await write();
    await this.promote(full, record.affected === undefined);
    return full;
  }

  /**
   * At start: each intent left by a crash becomes a record when `isDone` says its object is
   * sound now (the write happened), and is dropped otherwise. Returns how many were recorded.
   */
  async recoverIntents(isDone: (record: RepairRecord) => Promise<boolean>): Promise<number> {
    let promoted = 0;
    for (const name of (await readdir(this.outbox)).filter((n) => n.endsWith('.intent.json')).sort()) {
      const path = join(this.outbox, name);
      let record: RepairRecord;
      try {
        record = RepairRecord.parse(parseJsonObject(await readFile(path), name));
      } catch (err) {
        this.opts.log.error({ err, name }, 'damaged repair intent dropped');
        await unlink(path);
        continue;
      }
      if (await isDone(record)) {
        await this.promote(record, record.object === 'chunk' && record.affected.length === 0);
        promoted++;
      } else {
        await unlink(path);
      }
    }
    return promoted;
  }

  private async promote(record: RepairRecord, rangesPending: boolean): Promise<void> {
    const intent = join(this.outbox, `${record.repairId}.intent.json`);
    if (rangesPending) {
      await rename(intent, join(this.outbox, `${record.repairId}.pending.json`));
    } else {
      await writeFileAtomic(join(this.outbox, `${record.repairId}.json`), this.encodeEvent(this.repairEvent(record)), { tmpDir: this.opts.tmpDir, syncDir: false });
      await unlink(intent);
    }
    await this.syncer.sync([this.outbox]);
    this.recent.push(record);
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
    this.count++;
    this.opts.onRecorded?.(record);
    this.schedule(this.opts.batchDelayMs ?? 100);
  }

  /** The open alert for the object, or a new one raised now (durable before this resolves). */
  async raise(alert: Omit<DamageAlert, 'alertId' | 'site' | 'raisedAt'>): Promise<DamageAlert> {
    const key = keyOf(alert);
    const open = this.alerts.get(key);
    if (open) return open;
    const full = DamageAlert.parse({ ...alert, alertId: newId(this.opts.clock.nowMs()), site: this.opts.site, raisedAt: this.opts.clock.nowIso() });
    this.alerts.set(key, full);
    await this.saveAlerts();
    await this.enqueue({ ...this.base(full.alertId), type: 'alert.raised', alert: full });
    this.opts.log.error({ alertId: full.alertId, object: full.object, digest: full.digest, backupId: full.backupId, disk: full.disk }, full.message);
    return full;
  }

  /** Resolves the open alert of an object, if any. */
  async resolve(key: DamageKey, reason: string): Promise<void> {
    const k = damageKeyString(key);
    const open = this.alerts.get(k);
    if (!open) return;
    this.alerts.delete(k);
    await this.saveAlerts();
    await this.enqueue({ ...this.base(newId(this.opts.clock.nowMs())), type: 'alert.resolved', alertId: open.alertId, reason });
    this.opts.log.info({ alertId: open.alertId, reason }, 'damage alert resolved');
  }

  /** Repairs recorded since start. */
  get recordedCount(): number {
    return this.count;
  }

  /** The repairs recorded after the first `count` (as far back as the recent ones kept go). */
  recordedSince(count: number): RepairRecord[] {
    const newer = this.count - count;
    return newer <= 0 ? [] : this.recent.slice(-Math.min(newer, this.recent.length));
  }

  openAlerts(): DamageAlert[] {
    return [...this.alerts.values()];
  }

  hasOpen(key: DamageKey): boolean {
    return this.alerts.has(damageKeyString(key));
  }

  /** Why a backup cannot be fully restored from here (open alerts that name it), or null. */
  damageOf(backupId: string): string | null {
    const lines: string[] = [];
    for (const alert of this.alerts.values()) {
      if (alert.backupId === backupId || alert.affected.some((r) => r.backupId === backupId)) {
        lines.push(alert.object === 'chunk' ? `chunk ${alert.digest ?? ''}: ${alert.problem}` : `${alert.object}${alert.disk ? ` of disk ${alert.disk}` : ''}: ${alert.problem}`);
      }
    }
    return lines.length === 0 ? null : `unrecoverable: ${lines.join('; ')} (alert${lines.length > 1 ? 's' : ''} open)`;
  }

  /**
   * Fills in pending repairs' ranges and publishes the outbox, oldest first. A failed publish
   * leaves the rest for a retry (a few seconds later). Resolves when this round is done.
   */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.flushOnce()
      .catch((err: unknown) => {
        this.opts.log.warn({ err: errorMessage(err) }, 'repair journal flush failed; retrying');
        this.schedule(2000);
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.again) {
          this.again = false;
          void this.flush();
        }
      });
    return this.flushing;
  }

  /** Waits until every record so far is published (tests, shutdown); false when the sink keeps failing. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    for (let waitedMs = 0; ; waitedMs += 100) {
      await this.flush();
      const left = (await readdir(this.outbox)).filter((n) => n.endsWith('.json') && !n.endsWith('.intent.json'));
      if (left.length === 0 || !this.opts.sink) return left.length === 0 || !this.opts.sink;
      if (waitedMs >= timeoutMs) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private async flushOnce(): Promise<void> {
    const pending = (await readdir(this.outbox)).filter((n) => n.endsWith('.pending.json')).sort();
    if (pending.length > 0) {
      const records: RepairRecord[] = [];
      for (const name of pending) {
        try {
          records.push(RepairRecord.parse(parseJsonObject(await readFile(join(this.outbox, name)), name)));
        } catch (err) {
          this.opts.log.error({ err, name }, 'damaged pending repair record dropped');
          await unlink(join(this.outbox, name));
        }
      }
      const ranges = await this.opts.resolveRanges(new Set(records.map((r) => r.digest ?? '')));
      // Each record's final file replaces its pending one; one directory fsync for the batch.
      const finals: string[] = [];
      for (const record of records) {
        const full = { ...record, affected: ranges.get(record.digest ?? '') ?? [] };
        await writeFileAtomic(join(this.outbox, `${record.repairId}.json`), this.encodeEvent(this.repairEvent(full)), { tmpDir: this.opts.tmpDir, syncDir: false });
        await unlink(join(this.outbox, `${record.repairId}.pending.json`));
        const mine = this.recent.find((r) => r.repairId === record.repairId);
        if (mine) mine.affected.splice(0, mine.affected.length, ...full.affected);
        finals.push(record.repairId);
      }
      if (finals.length > 0) await this.syncer.sync([this.outbox]);
    }
    const sink = this.opts.sink;
    if (!sink) return;
    const ready = (await readdir(this.outbox)).filter((n) => n.endsWith('.json') && !n.endsWith('.pending.json') && !n.endsWith('.intent.json')).sort();
    for (const name of ready) {
      const path = join(this.outbox, name);
      let event: WorkerEvent;
      try {
        event = WorkerEvent.parse(parseJsonObject(await readFile(path), name));
      } catch (err) {
        this.opts.log.error({ err, name }, 'damaged outbox event dropped');
        await unlink(path);
        continue;
      }
      await sink.publish(event);
      await unlink(path);
    }
  }

  private base(eventId: string): { eventId: string; site: string; worker: string; at: string } {
    return { eventId, site: this.opts.site, worker: this.opts.worker, at: this.opts.clock.nowIso() };
  }

  private repairEvent(record: RepairRecord): WorkerEvent {
    return { ...this.base(record.repairId), type: 'repair', repair: record };
  }

  private encodeEvent(event: WorkerEvent): Buffer {
    return Buffer.from(JSON.stringify(WorkerEvent.parse(event)));
  }

  private async enqueue(event: WorkerEvent): Promise<void> {
    await writeFileAtomic(join(this.outbox, `${event.eventId}.json`), this.encodeEvent(event), { tmpDir: this.opts.tmpDir });
    this.schedule(0);
  }

  private async saveAlerts(): Promise<void> {
    const file = encodeCheckedJson('bulwark-alerts', 1, { alerts: [...this.alerts.values()] });
    await writeFileAtomic(join(this.opts.dir, 'alerts.json'), file, { tmpDir: this.opts.tmpDir });
  }
}
