// Original file: proto/bulwark/v1/controller.proto


export interface DeletePolicyResponse {
  'name'?: (string);
}

export interface DeletePolicyResponse__Output {
  'name': (string);
}
