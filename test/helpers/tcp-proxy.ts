/**
 * A TCP proxy on 127.0.0.1 under a test's control, to stand for the link between two sites:
 * `cut()` destroys every connection through it and refuses new ones (connections are accepted and
 * closed at once, as a broken link looks to a client); `restore()` forwards again. It counts the
 * bytes it forwards each way, so a test or the bench can measure what crossed the link.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private linkUp = true;
  /** Connections forwarded so far. */
  connections = 0;
  /** Bytes forwarded from clients to the target (requests, uploads). */
  bytesToTarget = 0;
  /** Bytes forwarded from the target to clients (answers, downloads). */
  bytesFromTarget = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `target` (host:port). */
  static async start(target: string): Promise<TcpProxy> {
    const [host, portText] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
    const port = Number(portText);
    const holder: { proxy?: TcpProxy } = {};
    // Half-open both ways: a client that ends its side still gets the answer, as without the proxy.
    const server = createServer({ allowHalfOpen: true }, (client) => holder.proxy?.accept(client, host, port));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new TcpProxy(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    holder.proxy = proxy;
    return proxy;
  }

  /** Whether the link forwards. */
  get up(): boolean {
    return this.linkUp;
  }

  /** Breaks the link: every open connection is destroyed, new ones are closed at once. */
  cut(): void {
    this.linkUp = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Bytes forwarded both ways. */
  get bytesTotal(): number {
    return this.bytesToTarget + this.bytesFromTarget;
  }

  /** Starts counting bytes from zero. */
  resetCounts(): void {
    this.bytesToTarget = 0;
    this.bytesFromTarget = 0;
  }

  /** Mends the link. */
  restore(): void {
    this.linkUp = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (!this.linkUp) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = connect({ port, host, allowHalfOpen: true });
    for (const [a, b, toTarget] of [
      [client, upstream, true],
      [upstream, client, false],
    ] as const) {
      this.sockets.add(a);
      a.on('data', (chunk: Buffer) => {
        if (toTarget) this.bytesToTarget += chunk.length;
        else this.bytesFromTarget += chunk.length;
      });
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.end();
      });
    }
  }
}
