// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface RpoEntry {
  'vm'?: (string);
  'site'?: (string);
  'policy'?: (string);
  'rpoMs'?: (number | string | Long);
  'newestBackupId'?: (string);
  'newestBackupAt'?: (string);
  'ageMs'?: (number | string | Long);
  'state'?: (string);
  'alertId'?: (string);
  'breachedSince'?: (string);
  '_ageMs'?: "ageMs";
}

export interface RpoEntry__Output {
  'vm': (string);
  'site': (string);
  'policy': (string);
  'rpoMs': (number);
  'newestBackupId': (string);
  'newestBackupAt': (string);
  'ageMs'?: (number);
  'state': (string);
  'alertId': (string);
  'breachedSince': (string);
  '_ageMs'?: "ageMs";
}
