// Original file: proto/bulwark/v1/controller.proto


export interface PolicyEntry {
  'name'?: (string);
  'policyJson'?: (string);
  'createdAt'?: (string);
  'updatedAt'?: (string);
  'coveredVms'?: (string)[];
  'nextDue'?: (string)[];
}

export interface PolicyEntry__Output {
  'name': (string);
  'policyJson': (string);
  'createdAt': (string);
  'updatedAt': (string);
  'coveredVms': (string)[];
  'nextDue': (string)[];
}
