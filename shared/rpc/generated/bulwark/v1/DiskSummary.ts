// Original file: proto/bulwark/v1/blockstore.proto

import type { Long } from '@grpc/proto-loader';

export interface DiskSummary {
  'name'?: (string);
  'sizeBytes'?: (number | string | Long);
  'chunkCount'?: (number | string | Long);
  'zeroChunks'?: (number | string | Long);
}

export interface DiskSummary__Output {
  'name': (string);
  'sizeBytes': (number);
  'chunkCount': (number);
  'zeroChunks': (number);
}
