// Original file: proto/bulwark/v1/controller.proto


export interface ListApiTokensRequest {
}

export interface ListApiTokensRequest__Output {
}
