// Original file: proto/bulwark/v1/blockstore.proto


export interface AbortBackupRequest {
  'sessionId'?: (string);
}

export interface AbortBackupRequest__Output {
  'sessionId': (string);
}
