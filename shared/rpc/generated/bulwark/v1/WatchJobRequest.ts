// Original file: proto/bulwark/v1/controller.proto


export interface WatchJobRequest {
  'id'?: (string);
}

export interface WatchJobRequest__Output {
  'id': (string);
}
