// Original file: proto/bulwark/v1/controller.proto


export interface NewestCopy {
  'site'?: (string);
  'backupId'?: (string);
  'createdAt'?: (string);
  'state'?: (string);
}

export interface NewestCopy__Output {
  'site': (string);
  'backupId': (string);
  'createdAt': (string);
  'state': (string);
}
