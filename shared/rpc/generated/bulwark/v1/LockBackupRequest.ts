// Original file: proto/bulwark/v1/controller.proto


export interface LockBackupRequest {
  'backupId'?: (string);
  'until'?: (string);
  'site'?: (string);
}

export interface LockBackupRequest__Output {
  'backupId': (string);
  'until': (string);
  'site': (string);
}
