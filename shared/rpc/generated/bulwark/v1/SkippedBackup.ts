// Original file: proto/bulwark/v1/controller.proto


export interface SkippedBackup {
  'backupId'?: (string);
  'reason'?: (string);
}

export interface SkippedBackup__Output {
  'backupId': (string);
  'reason': (string);
}
