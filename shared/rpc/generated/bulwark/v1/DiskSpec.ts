// Original file: proto/bulwark/v1/blockstore.proto

import type { Long } from '@grpc/proto-loader';

export interface DiskSpec {
  'name'?: (string);
  'sizeBytes'?: (number | string | Long);
}

export interface DiskSpec__Output {
  'name': (string);
  'sizeBytes': (number);
}
