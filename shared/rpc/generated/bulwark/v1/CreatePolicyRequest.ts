// Original file: proto/bulwark/v1/controller.proto


export interface CreatePolicyRequest {
  'policyJson'?: (string);
}

export interface CreatePolicyRequest__Output {
  'policyJson': (string);
}
