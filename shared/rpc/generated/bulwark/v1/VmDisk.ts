// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface VmDisk {
  'name'?: (string);
  'sizeBytes'?: (number | string | Long);
}

export interface VmDisk__Output {
  'name': (string);
  'sizeBytes': (number);
}
