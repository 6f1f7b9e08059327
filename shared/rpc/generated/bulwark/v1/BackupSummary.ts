// Original file: proto/bulwark/v1/blockstore.proto

import type { DiskSummary as _bulwark_v1_DiskSummary, DiskSummary__Output as _bulwark_v1_DiskSummary__Output } from '../../bulwark/v1/DiskSummary.js';

export interface BackupSummary {
  'backupId'?: (string);
  'vm'?: (string);
  'createdAt'?: (string);
  'mode'?: (string);
  'parentBackupId'?: (string);
  'disks'?: (_bulwark_v1_DiskSummary)[];
  'jobId'?: (string);
  'attempt'?: (number);
  'chunkSizeBytes'?: (number);
  'changeTracking'?: (string);
  'verifiedAt'?: (string);
  'lockedUntil'?: (string);
  'damage'?: (string);
}

export interface BackupSummary__Output {
  'backupId': (string);
  'vm': (string);
  'createdAt': (string);
  'mode': (string);
  'parentBackupId': (string);
  'disks': (_bulwark_v1_DiskSummary__Output)[];
  'jobId': (string);
  'attempt': (number);
  'chunkSizeBytes': (number);
  'changeTracking': (string);
  'verifiedAt': (string);
  'lockedUntil': (string);
  'damage': (string);
}
