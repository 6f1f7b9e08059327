// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface AffectedRange {
  'backupId'?: (string);
  'vm'?: (string);
  'disk'?: (string);
  'offsetBytes'?: (number | string | Long);
  'lengthBytes'?: (number | string | Long);
}

export interface AffectedRange__Output {
  'backupId': (string);
  'vm': (string);
  'disk': (string);
  'offsetBytes': (number);
  'lengthBytes': (number);
}
