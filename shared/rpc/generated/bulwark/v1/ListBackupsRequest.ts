// Original file: proto/bulwark/v1/blockstore.proto


export interface ListBackupsRequest {
  'vm'?: (string);
}

export interface ListBackupsRequest__Output {
  'vm': (string);
}
