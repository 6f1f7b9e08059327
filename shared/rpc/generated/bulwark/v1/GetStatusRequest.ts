// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface GetStatusRequest {
  'failedWithinMs'?: (number | string | Long);
  '_failedWithinMs'?: "failedWithinMs";
}

export interface GetStatusRequest__Output {
  'failedWithinMs'?: (number);
  '_failedWithinMs'?: "failedWithinMs";
}
