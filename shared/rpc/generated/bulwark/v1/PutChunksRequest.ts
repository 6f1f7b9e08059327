// Original file: proto/bulwark/v1/blockstore.proto


export interface PutChunksRequest {
  'sessionId'?: (string);
  'digest'?: (Buffer | Uint8Array | string);
  'blob'?: (Buffer | Uint8Array | string);
}

export interface PutChunksRequest__Output {
  'sessionId': (string);
  'digest': (Buffer);
  'blob': (Buffer);
}
