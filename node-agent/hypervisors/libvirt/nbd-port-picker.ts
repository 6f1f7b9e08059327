/**
 * Ports for the pull backups' NBD servers. With a configured range, candidates go round the range
 * from where the last view's port was (so a port just released is not the first tried again);
 * without one, the OS picks a free port on `nbdHost` (listen on port 0, close). Either way QEMU
 * may lose a race for the port: the session then asks for another, up to a few tries.
 */
import { createServer } from 'node:net';

const MAX_TRIES_IN_RANGE = 8;
const MAX_TRIES_EPHEMERAL = 3;

/** Hands out candidate ports for one backup-begin at a time. */
export class NbdPortPicker {
  private cursor: number;

  constructor(
    private readonly host: string,
    private readonly range: readonly [number, number] | undefined,
  ) {
    this.cursor = range?.[0] ?? 0;
  }

  /** The next port to try after the ones in `tried`, or undefined when no more tries are left. */
  async next(tried: readonly number[]): Promise<number | undefined> {
    const range = this.range;
    if (range === undefined) {
      if (tried.length >= MAX_TRIES_EPHEMERAL) return undefined;
      return ephemeralPort(this.host);
    }
    const [from, to] = range;
    const size = to - from + 1;
    if (tried.length >= Math.min(size, MAX_TRIES_IN_RANGE)) return undefined;
    const port = this.cursor;
    this.cursor = port >= to ? from : port + 1;
    return port;
  }
}

/** A port the OS says is free on `host` right now. */
function ephemeralPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no port from listening on ${host}:0`))));
    });
  });
}
