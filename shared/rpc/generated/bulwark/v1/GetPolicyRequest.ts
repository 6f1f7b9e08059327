// Original file: proto/bulwark/v1/controller.proto


export interface GetPolicyRequest {
  'name'?: (string);
}

export interface GetPolicyRequest__Output {
  'name': (string);
}
