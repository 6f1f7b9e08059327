// Original file: proto/bulwark/v1/controller.proto

import type { NewestCopy as _bulwark_v1_NewestCopy, NewestCopy__Output as _bulwark_v1_NewestCopy__Output } from '../../bulwark/v1/NewestCopy.js';

export interface VmStatus {
  'name'?: (string);
  'site'?: (string);
  'worker'?: (string);
  'newest'?: (_bulwark_v1_NewestCopy)[];
}

export interface VmStatus__Output {
  'name': (string);
  'site': (string);
  'worker': (string);
  'newest': (_bulwark_v1_NewestCopy__Output)[];
}
