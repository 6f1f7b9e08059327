// Original file: proto/bulwark/v1/blockstore.proto

import type { BackupSummary as _bulwark_v1_BackupSummary, BackupSummary__Output as _bulwark_v1_BackupSummary__Output } from '../../bulwark/v1/BackupSummary.js';

export interface ListBackupsResponse {
  'backups'?: (_bulwark_v1_BackupSummary)[];
}

export interface ListBackupsResponse__Output {
  'backups': (_bulwark_v1_BackupSummary__Output)[];
}
