// Original file: proto/bulwark/v1/controller.proto


export interface ListRpoRequest {
  'vm'?: (string);
  'site'?: (string);
  'breachedOnly'?: (boolean);
}

export interface ListRpoRequest__Output {
  'vm': (string);
  'site': (string);
  'breachedOnly': (boolean);
}
