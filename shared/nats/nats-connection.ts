import { connect, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';

/**
 * Connects with the options checked in ../shared/NATS-JETSTREAM.md §4: reconnect forever,
 * detect a dead server within ~10 s, and wait for the first connection.
 */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 100,
    pingInterval: 5000,
    maxPingOut: 2,
    waitOnFirstConnect: true,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (String(status.type) === 'pingTimer') continue;
      log.info({ status: status.type, data: status.data }, 'nats status');
    }
  })();
  return nc;
}
