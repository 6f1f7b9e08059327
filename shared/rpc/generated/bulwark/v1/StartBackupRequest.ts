// Original file: proto/bulwark/v1/controller.proto


export interface StartBackupRequest {
  'vm'?: (string);
  'mode'?: (string);
}

export interface StartBackupRequest__Output {
  'vm': (string);
  'mode': (string);
}
