import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { MAX_MESSAGE_BYTES } from './proto-packages.js';

/** The HTTP/2 receive window servers advertise, per stream and per connection. */
export const SERVER_RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

let windowsRaised = false;

/**
 * grpc-js has no server option for the HTTP/2 receive window, and at Node's default 64 KiB
 * uploads crawl at ~400 MB/s (../shared/GRPC-THROUGHPUT.md). It creates its HTTP/2 server with
 * `http2.createServer`, so wrap that once per process: advertise a 16 MiB initial stream window
 * and raise each session's connection window. Both levels are needed; either alone does nothing.
 */
export function raiseHttp2ReceiveWindows(): void {
  if (windowsRaised) return;
  windowsRaised = true;
  const original = http2.createServer.bind(http2) as (options: http2.ServerOptions) => http2.Http2Server;
  const patched = (options: http2.ServerOptions = {}): http2.Http2Server => {
    const server = original({
      ...options,
      settings: { ...options.settings, initialWindowSize: SERVER_RECEIVE_WINDOW_BYTES },
    });
    server.on('session', (session: http2.ServerHttp2Session) => {
      session.setLocalWindowSize(SERVER_RECEIVE_WINDOW_BYTES);
    });
    return server;
  };
  (http2 as { createServer: unknown }).createServer = patched;
}

/** Options of `startGrpcServer`. */
export interface GrpcServerOptions {
  /** Run on every call of every service, in order, before its handler (e.g. access control). */
  readonly interceptors?: readonly grpc.ServerInterceptor[];
}

/** A gRPC server on `host:port` (port 0: any free port); resolves with the bound address. */
export async function startGrpcServer(
  listen: string,
  register: (server: grpc.Server) => void,
  options: GrpcServerOptions = {},
): Promise<{ server: grpc.Server; address: string }> {
  raiseHttp2ReceiveWindows();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    ...(options.interceptors && options.interceptors.length > 0 ? { interceptors: [...options.interceptors] } : {}),
  });
  register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, boundPort) =>
      err ? reject(err) : resolve(boundPort),
    );
  });
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return { server, address: `${host}:${port}` };
}

/** Stops a server: lets calls finish for `graceMs`, then cuts them. */
export async function stopGrpcServer(server: grpc.Server, graceMs = 5000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
