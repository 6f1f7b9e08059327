// Original file: proto/bulwark/v1/controller.proto


export interface ListVmsRequest {
}

export interface ListVmsRequest__Output {
}
