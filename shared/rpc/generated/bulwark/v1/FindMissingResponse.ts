// Original file: proto/bulwark/v1/blockstore.proto


export interface FindMissingResponse {
  'missing'?: (Buffer | Uint8Array | string)[];
}

export interface FindMissingResponse__Output {
  'missing': (Buffer)[];
}
