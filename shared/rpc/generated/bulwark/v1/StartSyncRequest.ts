// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface StartSyncRequest {
  'fromSite'?: (string);
  'toSite'?: (string);
  'mode'?: (string);
  'rateBytesPerSecond'?: (number | string | Long);
  'concurrency'?: (number);
  '_rateBytesPerSecond'?: "rateBytesPerSecond";
  '_concurrency'?: "concurrency";
}

export interface StartSyncRequest__Output {
  'fromSite': (string);
  'toSite': (string);
  'mode': (string);
  'rateBytesPerSecond'?: (number);
  'concurrency'?: (number);
  '_rateBytesPerSecond'?: "rateBytesPerSecond";
  '_concurrency'?: "concurrency";
}
