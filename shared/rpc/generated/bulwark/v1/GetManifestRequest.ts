// Original file: proto/bulwark/v1/blockstore.proto


export interface GetManifestRequest {
  'backupId'?: (string);
  'excludeSites'?: (string)[];
}

export interface GetManifestRequest__Output {
  'backupId': (string);
  'excludeSites': (string)[];
}
