// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditEntry {
  'id'?: (number | string | Long);
  'at'?: (string);
  'tokenName'?: (string);
  'tokenId'?: (string);
  'role'?: (string);
  'method'?: (string);
  'requestJson'?: (string);
  'outcome'?: (string);
  'error'?: (string);
}

export interface AuditEntry__Output {
  'id': (number);
  'at': (string);
  'tokenName': (string);
  'tokenId': (string);
  'role': (string);
  'method': (string);
  'requestJson': (string);
  'outcome': (string);
  'error': (string);
}
