// Original file: proto/bulwark/v1/blockstore.proto

import type { Long } from '@grpc/proto-loader';

export interface PutIndexResponse {
  'chunkCount'?: (number | string | Long);
}

export interface PutIndexResponse__Output {
  'chunkCount': (number);
}
