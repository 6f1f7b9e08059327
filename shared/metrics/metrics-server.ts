/**
 * A daemon's Prometheus endpoint: GET /metrics answers with the registry in the text exposition
 * format; any other path is 404. Each process builds its own Registry (createMetricsRegistry),
 * with Node's standard process metrics, so nothing is shared through prom-client's global one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../log.js';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound host:port. */
  readonly address: string;
  close(): Promise<void>;
}

/** A fresh registry with the standard process metrics (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Serves `registry` on `listen` (host:port, port 0: any free port); resolves once bound. */
export async function startMetricsServer(listen: string, registry: Registry, log: Logger): Promise<MetricsServer> {
  const host = listen.slice(0, listen.lastIndexOf(':'));
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  const server = createServer((req, res) => {
    serve(req, res, registry).catch((err: unknown) => {
      log.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics collection failed\n');
    });
  });
  // A scraper that keeps its connection open must not hold close() up.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, registry: Registry): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
