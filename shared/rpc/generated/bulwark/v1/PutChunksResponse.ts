// Original file: proto/bulwark/v1/blockstore.proto

import type { Long } from '@grpc/proto-loader';

export interface PutChunksResponse {
  'chunksWritten'?: (number);
  'chunksAlreadyPresent'?: (number);
  'bytesWritten'?: (number | string | Long);
}

export interface PutChunksResponse__Output {
  'chunksWritten': (number);
  'chunksAlreadyPresent': (number);
  'bytesWritten': (number);
}
