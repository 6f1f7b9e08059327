// Original file: proto/bulwark/v1/controller.proto


export interface ListRepairsRequest {
  'site'?: (string);
  'vm'?: (string);
  'since'?: (string);
  'limit'?: (number);
}

export interface ListRepairsRequest__Output {
  'site': (string);
  'vm': (string);
  'since': (string);
  'limit': (number);
}
