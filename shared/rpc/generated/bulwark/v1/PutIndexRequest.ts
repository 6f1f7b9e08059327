// Original file: proto/bulwark/v1/blockstore.proto

import type { Long } from '@grpc/proto-loader';

export interface PutIndexRequest {
  'sessionId'?: (string);
  'disk'?: (string);
  'firstChunk'?: (number | string | Long);
  'digests'?: (Buffer | Uint8Array | string);
}

export interface PutIndexRequest__Output {
  'sessionId': (string);
  'disk': (string);
  'firstChunk': (number);
  'digests': (Buffer);
}
