// Original file: proto/bulwark/v1/controller.proto


export interface DeletePolicyRequest {
  'name'?: (string);
}

export interface DeletePolicyRequest__Output {
  'name': (string);
}
