// Original file: proto/bulwark/v1/controller.proto


export interface Worker {
  'site'?: (string);
  'id'?: (string);
  'kind'?: (string);
  'state'?: (string);
  'lastSeenAt'?: (string);
  'address'?: (string);
  'version'?: (string);
}

export interface Worker__Output {
  'site': (string);
  'id': (string);
  'kind': (string);
  'state': (string);
  'lastSeenAt': (string);
  'address': (string);
  'version': (string);
}
