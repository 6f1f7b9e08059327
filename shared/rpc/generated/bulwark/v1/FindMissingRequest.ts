// Original file: proto/bulwark/v1/blockstore.proto


export interface FindMissingRequest {
  'digests'?: (Buffer | Uint8Array | string)[];
  'sessionId'?: (string);
}

export interface FindMissingRequest__Output {
  'digests': (Buffer)[];
  'sessionId': (string);
}
