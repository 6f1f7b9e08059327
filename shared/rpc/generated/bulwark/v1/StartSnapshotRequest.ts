// Original file: proto/bulwark/v1/controller.proto


export interface StartSnapshotRequest {
  'vm'?: (string);
  'op'?: (string);
  'name'?: (string);
  'keep'?: (number);
}

export interface StartSnapshotRequest__Output {
  'vm': (string);
  'op': (string);
  'name': (string);
  'keep': (number);
}
