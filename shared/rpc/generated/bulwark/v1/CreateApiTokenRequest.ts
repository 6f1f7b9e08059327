// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateApiTokenRequest {
  'name'?: (string);
  'role'?: (string);
  'expiresInMs'?: (number | string | Long);
}

export interface CreateApiTokenRequest__Output {
  'name': (string);
  'role': (string);
  'expiresInMs': (number);
}
