// Original file: proto/bulwark/v1/blockstore.proto


export interface GetChunksResponse {
  'digest'?: (Buffer | Uint8Array | string);
  'blob'?: (Buffer | Uint8Array | string);
}

export interface GetChunksResponse__Output {
  'digest': (Buffer);
  'blob': (Buffer);
}
