// Original file: proto/bulwark/v1/controller.proto

import type { Repair as _bulwark_v1_Repair, Repair__Output as _bulwark_v1_Repair__Output } from '../../bulwark/v1/Repair.js';

export interface ListRepairsResponse {
  'repairs'?: (_bulwark_v1_Repair)[];
}

export interface ListRepairsResponse__Output {
  'repairs': (_bulwark_v1_Repair__Output)[];
}
