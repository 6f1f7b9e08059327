// Original file: proto/bulwark/v1/controller.proto


export interface ListJobsRequest {
  'limit'?: (number);
  'state'?: (string);
}

export interface ListJobsRequest__Output {
  'limit': (number);
  'state': (string);
}
