// Original file: proto/bulwark/v1/blockstore.proto


export interface GetChunksRequest {
  'digests'?: (Buffer | Uint8Array | string)[];
  'excludeSites'?: (string)[];
}

export interface GetChunksRequest__Output {
  'digests': (Buffer)[];
  'excludeSites': (string)[];
}
