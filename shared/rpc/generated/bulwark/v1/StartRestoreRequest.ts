// Original file: proto/bulwark/v1/controller.proto


export interface StartRestoreRequest {
  'backupId'?: (string);
  'targetDir'?: (string);
  'site'?: (string);
  'worker'?: (string);
  'verifyOnly'?: (boolean);
  'format'?: (string);
  'start'?: (boolean);
}

export interface StartRestoreRequest__Output {
  'backupId': (string);
  'targetDir': (string);
  'site': (string);
  'worker': (string);
  'verifyOnly': (boolean);
  'format': (string);
  'start': (boolean);
}
