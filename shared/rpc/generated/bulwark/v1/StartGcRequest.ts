// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface StartGcRequest {
  'site'?: (string);
  'graceMs'?: (number | string | Long);
  'dryRun'?: (boolean);
  '_graceMs'?: "graceMs";
}

export interface StartGcRequest__Output {
  'site': (string);
  'graceMs'?: (number);
  'dryRun': (boolean);
  '_graceMs'?: "graceMs";
}
