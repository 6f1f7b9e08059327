// Original file: proto/bulwark/v1/blockstore.proto


export interface GetDatastoreInfoRequest {
}

export interface GetDatastoreInfoRequest__Output {
}
