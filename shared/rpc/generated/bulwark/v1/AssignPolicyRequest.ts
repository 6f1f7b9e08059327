// Original file: proto/bulwark/v1/controller.proto


export interface AssignPolicyRequest {
  'name'?: (string);
  'vms'?: (string)[];
  'namePatterns'?: (string)[];
  'tags'?: (string)[];
  'remove'?: (boolean);
}

export interface AssignPolicyRequest__Output {
  'name': (string);
  'vms': (string)[];
  'namePatterns': (string)[];
  'tags': (string)[];
  'remove': (boolean);
}
