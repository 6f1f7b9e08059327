// Original file: proto/bulwark/v1/controller.proto


export interface UpdatePolicyRequest {
  'policyJson'?: (string);
  'ifUpdatedAt'?: (string);
}

export interface UpdatePolicyRequest__Output {
  'policyJson': (string);
  'ifUpdatedAt': (string);
}
