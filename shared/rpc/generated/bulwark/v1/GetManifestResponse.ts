// Original file: proto/bulwark/v1/blockstore.proto


export interface GetManifestResponse {
  'manifest'?: (Buffer | Uint8Array | string);
}

export interface GetManifestResponse__Output {
  'manifest': (Buffer);
}
