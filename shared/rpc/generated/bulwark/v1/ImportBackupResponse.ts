// Original file: proto/bulwark/v1/blockstore.proto

import type { BackupSummary as _bulwark_v1_BackupSummary, BackupSummary__Output as _bulwark_v1_BackupSummary__Output } from '../../bulwark/v1/BackupSummary.js';

export interface ImportBackupResponse {
  'backup'?: (_bulwark_v1_BackupSummary | null);
  'imported'?: (boolean);
  'prunedHere'?: (boolean);
}

export interface ImportBackupResponse__Output {
  'backup': (_bulwark_v1_BackupSummary__Output | null);
  'imported': (boolean);
  'prunedHere': (boolean);
}
