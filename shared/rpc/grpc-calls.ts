import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import { fromServiceError, toServiceError } from './grpc-errors.js';

/** Wraps an async unary handler: its result or its error, mapped once, goes back to the caller. */
export function unaryHandler<Req, Res>(
  log: Logger,
  fn: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through a microtask: a handler that throws before returning its promise fails the call
    // with its own status instead of grpc-js's UNKNOWN.
    Promise.resolve().then(() => fn(call.request, call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, log)),
    );
  };
}

/** Wraps an async server-streaming handler; the stream ends when `fn` resolves. */
export function serverStreamHandler<Req, Res>(
  log: Logger,
  fn: (request: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve().then(() => fn(call.request, call)).then(
      () => call.end(),
      // emit('error'), not destroy(): grpc-js sends the status from its own 'error' listener via
      // end(); a destroyed stream never reaches _final, so the client would wait forever.
      (err: unknown) => call.emit('error', Object.assign(new Error('call failed'), toServiceError(err, log))),
    );
  };
}

/** Wraps an async client-streaming handler. */
export function clientStreamHandler<Req, Res>(
  log: Logger,
  fn: (call: grpc.ServerReadableStream<Req, Res>) => Promise<Res>,
): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, log)),
    );
  };
}

/** Awaits a unary call on a generated client, mapping failures to AppErrors. */
export function callUnary<Req, Res>(
  target: string,
  method: (req: Req, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown,
  request: Req,
  options: grpc.CallOptions = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, options, (err, res) => {
      if (err) reject(fromServiceError(err, target));
      else if (res === undefined) reject(fromServiceError(new Error('empty response'), target));
      else resolve(res);
    });
  });
}

/** Reads a server stream to its end as an async iterable, mapping failures to AppErrors. */
export async function* readServerStream<Res>(target: string, stream: grpc.ClientReadableStream<Res>): AsyncGenerator<Res> {
  try {
    for await (const message of stream as AsyncIterable<Res>) yield message;
  } catch (err) {
    throw fromServiceError(err, target);
  } finally {
    stream.cancel();
  }
}

/** Writes one message honouring backpressure: resolves once the stream can take more. */
export function writeWithBackpressure<T>(stream: grpc.ClientWritableStream<T> | grpc.ServerWritableStream<unknown, T>, message: T): Promise<void> {
  if (stream.write(message)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** A deadline `ms` from now, for CallOptions. */
export function deadlineIn(ms: number): Date {
  return new Date(Date.now() + ms);
}
