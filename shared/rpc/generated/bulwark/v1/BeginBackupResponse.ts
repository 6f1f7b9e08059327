// Original file: proto/bulwark/v1/blockstore.proto


export interface BeginBackupResponse {
  'sessionId'?: (string);
  'chunkSizeBytes'?: (number);
  'committedBackupId'?: (string);
}

export interface BeginBackupResponse__Output {
  'sessionId': (string);
  'chunkSizeBytes': (number);
  'committedBackupId': (string);
}
