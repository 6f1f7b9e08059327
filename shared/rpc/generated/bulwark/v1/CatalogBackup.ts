// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface CatalogBackup {
  'backupId'?: (string);
  'vm'?: (string);
  'site'?: (string);
  'createdAt'?: (string);
  'mode'?: (string);
  'sizeBytes'?: (number | string | Long);
  'diskCount'?: (number);
  'jobId'?: (string);
  'verifiedAt'?: (string);
  'state'?: (string);
  'lockedUntil'?: (string);
  'parentBackupId'?: (string);
}

export interface CatalogBackup__Output {
  'backupId': (string);
  'vm': (string);
  'site': (string);
  'createdAt': (string);
  'mode': (string);
  'sizeBytes': (number);
  'diskCount': (number);
  'jobId': (string);
  'verifiedAt': (string);
  'state': (string);
  'lockedUntil': (string);
  'parentBackupId': (string);
}
