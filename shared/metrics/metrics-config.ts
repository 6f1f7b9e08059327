/**
 * The `metrics` section every daemon's config may carry: where its Prometheus endpoint listens.
 * Absent: the daemon serves no metrics.
 */
import { z } from 'zod';

/** `metrics: { listen: "host:port" }` (port 0: any free port; the bound address is in the ready file). */
export const MetricsConfig = z.strictObject({
  listen: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port (port 0: any free port)'),
});
export type MetricsConfig = z.output<typeof MetricsConfig>;
