// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface JobProgress {
  'doneBytes'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
  'phase'?: (string);
}

export interface JobProgress__Output {
  'doneBytes': (number);
  'totalBytes': (number);
  'phase': (string);
}
