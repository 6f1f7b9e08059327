// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface StartVerifyRequest {
  'site'?: (string);
  'repair'?: (boolean);
  'backupId'?: (string);
  'vm'?: (string);
  'force'?: (boolean);
  'skipVerifiedWithinMs'?: (number | string | Long);
  '_skipVerifiedWithinMs'?: "skipVerifiedWithinMs";
}

export interface StartVerifyRequest__Output {
  'site': (string);
  'repair': (boolean);
  'backupId': (string);
  'vm': (string);
  'force': (boolean);
  'skipVerifiedWithinMs'?: (number);
  '_skipVerifiedWithinMs'?: "skipVerifiedWithinMs";
}
