// Original file: proto/bulwark/v1/controller.proto


export interface RevokeApiTokenRequest {
  'name'?: (string);
}

export interface RevokeApiTokenRequest__Output {
  'name': (string);
}
