import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as BlockStoreProto } from './generated/blockstore.js';
import type { ProtoGrpcType as ControllerProto } from './generated/controller.js';

import type { BlockStoreClient } from './generated/bulwark/v1/BlockStore.js';
import type { ControllerClient } from './generated/bulwark/v1/Controller.js';

export type { BlockStoreClient, BlockStoreHandlers } from './generated/bulwark/v1/BlockStore.js';
export type { ControllerClient, ControllerHandlers } from './generated/bulwark/v1/Controller.js';

const protoRoot = fileURLToPath(new URL('../../proto', import.meta.url));

/** Loader options matching the generated types (scripts/gen-proto.sh): keep both in step. */
const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let blockStore: BlockStoreProto | undefined;
let controller: ControllerProto | undefined;

/** The loaded `bulwark.v1` BlockStore package (service definition and client constructor). */
export function blockStorePackage(): BlockStoreProto['bulwark']['v1'] {
  blockStore ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('bulwark/v1/blockstore.proto', loaderOptions),
  ) as unknown as BlockStoreProto;
  return blockStore.bulwark.v1;
}

/** The loaded `bulwark.v1` Controller package. */
export function controllerPackage(): ControllerProto['bulwark']['v1'] {
  controller ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('bulwark/v1/controller.proto', loaderOptions),
  ) as unknown as ControllerProto;
  return controller.bulwark.v1;
}

/** Message size limit for data-plane channels: a 4 MiB chunk plus headers fits. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Channel options for data-plane clients: large messages, 4 MiB receive window (2x downloads). */
export const dataPlaneChannelOptions: grpc.ChannelOptions = {
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  // Reconnect soon after a storage restarts or a link between sites comes back (grpc-js backs off up to 2 minutes by default).
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 5000,
  // A link that goes silent without closing (a cut between sites) fails a call within ~30 s,
  // so syncs resume and repairs move on instead of hanging on a stream (grpc-js servers accept
  // client pings at any rate).
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

/**
 * The PutChunks method's definition (path and codecs), for a client that serializes each message
 * itself when it writes it (node-agent's chunk writer: the blob's memory is reused at once).
 */
export function putChunksMethod(): BlockStoreProto['bulwark']['v1']['BlockStore']['service']['PutChunks'] {
  return blockStorePackage().BlockStore.service.PutChunks;
}

/**
 * A client interceptor that sends `authorization: Bearer <token>` with every call. Call
 * credentials would need a secure channel; an interceptor works on the insecure ones as well.
 */
export function bearerTokenInterceptor(token: string): grpc.Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', value);
        next(metadata, listener);
      },
    });
}

/** Options of a data-plane client. */
export interface BlockStoreClientOptions {
  /** The bearer token sent with every call (storage `access.clients`); none: anonymous. */
  readonly token?: string | undefined;
}

/**
 * A BlockStore client on an insecure channel (mTLS comes with the security work). With a
 * token, every call carries it, including the raw PutChunks stream made with `putChunksMethod()`.
 */
export function createBlockStoreClient(address: string, options: BlockStoreClientOptions = {}): BlockStoreClient {
  const { BlockStore } = blockStorePackage();
  // A fresh options object: grpc-js deletes `interceptors` from the one it is given.
  return new BlockStore(address, grpc.credentials.createInsecure(), {
    ...dataPlaneChannelOptions,
    ...(options.token === undefined ? {} : { interceptors: [bearerTokenInterceptor(options.token)] }),
  });
}

/** Options of a Controller client. */
export interface ControllerClientOptions {
  /** The API token sent with every call (`bulwark token create`); none: anonymous. */
  readonly token?: string | undefined;
}

/** A Controller client on an insecure channel; with a token, every call carries it. */
export function createControllerClient(address: string, options: ControllerClientOptions = {}): ControllerClient {
  const { Controller } = controllerPackage();
  return new Controller(address, grpc.credentials.createInsecure(), {
    ...(options.token === undefined ? {} : { interceptors: [bearerTokenInterceptor(options.token)] }),
  });
}
