// Original file: proto/bulwark/v1/controller.proto


export interface GetReplicationStatusRequest {
}

export interface GetReplicationStatusRequest__Output {
}
