// Original file: proto/bulwark/v1/controller.proto


export interface CancelJobRequest {
  'id'?: (string);
}

export interface CancelJobRequest__Output {
  'id': (string);
}
