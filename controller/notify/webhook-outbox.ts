/**
 * Webhook delivery through a durable outbox. An event (an RPO breach or resolution, a damage
 * alert raised or resolved) is written as one row per webhook URL in the catalog, inside the
 * transaction that makes the event: a crash loses neither, and a controller restart or a
 * receiver that is down only delays it. A delivery loop POSTs due rows and marks a row delivered
 * once the receiver answers 2xx; a non-2xx answer, a network error or a timeout is retried with
 * capped exponential backoff (initialBackoffMs doubling up to maxBackoffMs).
 *
 * At least once: a crash between the receiver's 2xx and the row's update sends the event again,
 * with the same `id`, which is what a receiver dedupes on. A URL whose attempt failed is left
 * alone until that row's next attempt, so a receiver that is down gets one request per backoff
 * step, not one per queued event. Delivered rows are pruned after `keepDeliveredMs`.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { AlertRow, Catalog, WebhookDeliveryRow } from '../catalog/catalog.js';
import type { WebhookEventType, WebhookTarget } from './webhook-config.js';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

/** What a webhook receives as the JSON body. */
export interface WebhookEvent {
  /** Unique per event, the same in every attempt: the receiver's dedupe key. */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When the event happened (the alert was raised or resolved). */
  readonly time: string;
  readonly alert: unknown;
}

/** The port through which domain code announces events. */
export interface EventNotifier {
  /** Queues the event for every webhook that wants it; call inside the transaction that makes it. */
  publish(event: WebhookEvent): void;
}

/** One HTTP attempt, as a port: resolves with the status; rejects on a network error or timeout. */
export interface WebhookSender {
  post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<number>;
}

/** Waiting, as a port (the process: setTimeout; a test: its own). */
export interface WebhookTimer {
  after(delayMs: number, fn: () => void): () => void;
}

export interface WebhookOutboxOptions {
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly timer: WebhookTimer;
  readonly sender: WebhookSender;
  readonly hooks: readonly WebhookTarget[];
  readonly log: Logger;
  /** Delivered rows older than this are removed (7 days). */
  readonly keepDeliveredMs?: number;
}

/** Rows taken per URL and pass. */
const BATCH = 50;
/** The longest sleep between passes, whatever is due (a guard against a clock jump). */
const MAX_SLEEP_MS = 60_000;
const PRUNE_EVERY_MS = 600_000;
const DEFAULT_KEEP_DELIVERED_MS = 7 * 86_400_000;

/** The wait after the `failedAttempts`-th failure (1, 2, ...): initial × 2^(n-1), at most max. */
export function webhookBackoffMs(failedAttempts: number, initialMs: number, maxMs: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // 2^exponent overflows to Infinity long after it passed any cap; min() keeps it finite.
  return Math.min(maxMs, initialMs * 2 ** Math.min(exponent, 52));
}

export class WebhookOutbox implements EventNotifier {
  private readonly hooks: ReadonlyMap<string, WebhookTarget>;
  /** A URL whose last attempt failed waits until then (ms). */
  private readonly blockedUntil = new Map<string, number>();
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private stopping = false;
  private lastPruneMs = 0;

  constructor(private readonly opts: WebhookOutboxOptions) {
    this.hooks = new Map(opts.hooks.map((h) => [h.url, h]));
  }

  publish(event: WebhookEvent): void {
    const { catalog, clock } = this.opts;
    const body = JSON.stringify(event);
    const now = clock.nowIso();
    let queued = 0;
    for (const hook of this.hooks.values()) {
      if (hook.events !== undefined && !hook.events.includes(event.type)) continue;
      const row: WebhookDeliveryRow = {
        eventId: event.id,
        url: hook.url,
        type: event.type,
        body,
        createdAt: now,
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        deliveredAt: null,
      };
      if (catalog.enqueueWebhook(row)) queued++;
    }
    if (queued > 0) {
      this.opts.log.debug({ eventId: event.id, type: event.type, webhooks: queued }, 'webhook event queued');
      // The timer fires after the caller's transaction has committed (it is synchronous).
      this.kick();
    }
  }

  /** Starts delivering: what a previous run left queued goes first. */
  start(): void {
    if (this.hooks.size === 0) return;
    this.stopped = false;
    this.kick();
  }

  /** Stops the loop; an attempt in flight finishes (bounded by its timeout) and is recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }

  /** Runs one delivery pass now (tests; the loop calls it too). Resolves when it is done. */
  async deliverDue(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    await this.running;
    if (this.again) {
      this.again = false;
      await this.deliverDue();
    }
  }

  /** Schedules a pass as soon as possible. */
  private kick(): void {
    if (this.stopped) return;
    this.arm(0);
  }

  private arm(delayMs: number): void {
    this.cancelTimer?.();
    this.cancelTimer = this.opts.timer.after(delayMs, () => {
      this.cancelTimer = undefined;
      void this.deliverDue()
        .catch((err: unknown) => this.opts.log.error({ err }, 'webhook delivery pass failed'))
        .finally(() => {
          if (!this.stopped && this.cancelTimer === undefined) this.arm(this.sleepMs());
        });
    });
  }

  /** How long until the next row of an unblocked URL is due. */
  private sleepMs(): number {
    const nowMs = this.opts.clock.nowMs();
    let next = nowMs + MAX_SLEEP_MS;
    for (const url of this.hooks.keys()) {
      const due = this.opts.catalog.nextWebhookAttemptAt([url]);
      if (due === undefined) continue;
      next = Math.min(next, Math.max(Date.parse(due), this.blockedUntil.get(url) ?? 0));
    }
    return Math.max(0, next - nowMs);
  }

  private async pass(): Promise<void> {
    const { catalog, clock } = this.opts;
    const nowMs = clock.nowMs();
    if (nowMs - this.lastPruneMs >= PRUNE_EVERY_MS) {
      this.lastPruneMs = nowMs;
      const cutoff = new Date(nowMs - (this.opts.keepDeliveredMs ?? DEFAULT_KEEP_DELIVERED_MS)).toISOString();
      const pruned = catalog.pruneDeliveredWebhooks(cutoff);
      if (pruned > 0) this.opts.log.debug({ pruned }, 'delivered webhook events pruned');
    }
    const now = new Date(nowMs).toISOString();
    await Promise.all(
      [...this.hooks.values()]
        .filter((hook) => (this.blockedUntil.get(hook.url) ?? 0) <= nowMs)
        .map(async (hook) => {
          for (const row of catalog.listDueWebhooks([hook.url], now, BATCH)) {
            // stop() was called: the rest waits for the next run.
            if (this.stopping) return;
            if (!(await this.attempt(hook, row))) return;
          }
        }),
    );
  }

  /** One POST of one row; true when acknowledged. */
  private async attempt(hook: WebhookTarget, row: WebhookDeliveryRow): Promise<boolean> {
    const { catalog, clock, sender } = this.opts;
    const attempt = row.attempts + 1;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'bulwark-controller',
      'X-Bulwark-Event': row.type,
      'X-Bulwark-Event-Id': row.eventId,
      'X-Bulwark-Delivery-Attempt': String(attempt),
    };
    if (hook.secret !== undefined) headers[SIGNATURE_HEADER] = signWebhookBody(hook.secret, row.body);
    const log = this.opts.log.child({ eventId: row.eventId, type: row.type, webhook: hostOf(hook.url), attempt });
    let error: string;
    try {
      const status = await sender.post(hook.url, row.body, headers, hook.timeoutMs);
      if (status >= 200 && status < 300) {
        catalog.updateWebhook(row.eventId, row.url, { attempts: attempt, deliveredAt: clock.nowIso(), lastError: null });
        this.blockedUntil.delete(hook.url);
        log.info({ status }, 'webhook event delivered');
        return true;
      }
      error = `HTTP ${status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const retryInMs = webhookBackoffMs(attempt, hook.initialBackoffMs, hook.maxBackoffMs);
    const nextMs = clock.nowMs() + retryInMs;
    catalog.updateWebhook(row.eventId, row.url, { attempts: attempt, nextAttemptAt: new Date(nextMs).toISOString(), lastError: error });
    this.blockedUntil.set(hook.url, nextMs);
    log.warn({ error, retryInMs }, 'webhook delivery failed; will retry');
    return false;
  }
}

/** The webhook event of a damage alert raised or resolved (its id is stable: the alert's id and the change). */
export function damageAlertEvent(type: 'alert.raised' | 'alert.resolved', alert: AlertRow): WebhookEvent {
  const raised = type === 'alert.raised';
  return {
    id: `${alert.alertId}.${raised ? 'raised' : 'resolved'}`,
    type,
    time: raised ? alert.raisedAt : (alert.resolvedAt ?? alert.raisedAt),
    alert,
  };
}

/** The host of a URL, for logs (a URL's path or query may hold a token). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}
