// Original file: proto/bulwark/v1/blockstore.proto


export interface ImportBackupRequest {
  'manifest'?: (Buffer | Uint8Array | string);
  'disk'?: (string);
  'indexPart'?: (Buffer | Uint8Array | string);
}

export interface ImportBackupRequest__Output {
  'manifest': (Buffer);
  'disk': (string);
  'indexPart': (Buffer);
}
