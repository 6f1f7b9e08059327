// Original file: proto/bulwark/v1/controller.proto


export interface ListAuditEntriesRequest {
  'since'?: (string);
  'tokenName'?: (string);
  'method'?: (string);
  'limit'?: (number);
}

export interface ListAuditEntriesRequest__Output {
  'since': (string);
  'tokenName': (string);
  'method': (string);
  'limit': (number);
}
