// Original file: proto/bulwark/v1/controller.proto


export interface ListPoliciesRequest {
}

export interface ListPoliciesRequest__Output {
}
