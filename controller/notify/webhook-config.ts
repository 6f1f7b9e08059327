/**
 * The controller's webhooks (config `webhooks`, docs/OPERATORS.md "Webhooks"): where events are
 * POSTed, which events, how a receiver can check they come from this controller (an HMAC-SHA256
 * of the body with a shared secret), and how long one attempt may take.
 */
import { z } from 'zod';
import { readTokenSource } from '../../shared/config/token-source.js';

/** Every event a webhook can receive. */
export const WebhookEventTypes = ['rpo.breached', 'rpo.resolved', 'alert.raised', 'alert.resolved'] as const;
export const WebhookEventType = z.enum(WebhookEventTypes, { error: `must be one of ${WebhookEventTypes.join(', ')}` });
export type WebhookEventType = z.infer<typeof WebhookEventType>;

export const WebhookConfig = z
  .object({
    url: z
      .string()
      .refine((text) => {
        try {
          const u = new URL(text);
          return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
        } catch {
          return false;
        }
      }, 'must be an http:// or https:// URL'),
    /** The events it receives; absent: all. */
    events: z.array(WebhookEventType).min(1, 'give at least one event, or leave events out for all').optional(),
    /** A file holding the HMAC-SHA256 secret; absent: requests are not signed. */
    secretFile: z.string().startsWith('/', 'must be an absolute path').optional(),
    /** One attempt's deadline (connect, send, response headers and body). */
    timeoutMs: z.number().int('must be a whole number').min(100, 'must be at least 100').max(120_000, 'must be at most 120000 (2 min)').default(10_000),
    /** The wait after the first failed attempt, doubling after each failure up to maxBackoffMs. */
    initialBackoffMs: z.number().int('must be a whole number').min(100, 'must be at least 100').default(1000),
    maxBackoffMs: z.number().int('must be a whole number').min(100, 'must be at least 100').default(300_000),
  })
  .strict()
  .refine((w) => w.maxBackoffMs >= w.initialBackoffMs, { path: ['maxBackoffMs'], message: 'must be at least initialBackoffMs' });
export type WebhookConfig = z.infer<typeof WebhookConfig>;

export const WebhooksConfig = z
  .array(WebhookConfig)
  .refine((hooks) => new Set(hooks.map((h) => h.url)).size === hooks.length, 'each url may appear only once')
  .default([]);

/** A configured webhook with its secret read. */
export type WebhookTarget = Omit<WebhookConfig, 'secretFile'> & { readonly secret?: string | undefined };

/** The configured webhooks with their secrets read; an unreadable or empty secret file is a ConfigError. */
export function loadWebhookTargets(hooks: readonly WebhookConfig[], source: string): WebhookTarget[] {
  return hooks.map((hook, i) => {
    const { secretFile, ...rest } = hook;
    const secret = secretFile === undefined ? undefined : readTokenSource({ tokenFile: secretFile }, source, `webhooks.${i}.secret`);
    return { ...rest, secret };
  });
}
