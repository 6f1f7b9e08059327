// Original file: proto/bulwark/v1/blockstore.proto


export interface GetIndexRequest {
  'backupId'?: (string);
  'disk'?: (string);
  'excludeSites'?: (string)[];
}

export interface GetIndexRequest__Output {
  'backupId': (string);
  'disk': (string);
  'excludeSites': (string)[];
}
