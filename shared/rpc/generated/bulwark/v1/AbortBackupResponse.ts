// Original file: proto/bulwark/v1/blockstore.proto


export interface AbortBackupResponse {
}

export interface AbortBackupResponse__Output {
}
