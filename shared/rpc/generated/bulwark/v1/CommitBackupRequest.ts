// Original file: proto/bulwark/v1/blockstore.proto


export interface CommitBackupRequest {
  'sessionId'?: (string);
  'statsJson'?: (string);
  'contentHmac'?: (string);
}

export interface CommitBackupRequest__Output {
  'sessionId': (string);
  'statsJson': (string);
  'contentHmac': (string);
}
