// Original file: proto/bulwark/v1/blockstore.proto


export interface GetIndexResponse {
  'data'?: (Buffer | Uint8Array | string);
}

export interface GetIndexResponse__Output {
  'data': (Buffer);
}
