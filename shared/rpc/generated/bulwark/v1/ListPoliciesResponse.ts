// Original file: proto/bulwark/v1/controller.proto

import type { PolicyEntry as _bulwark_v1_PolicyEntry, PolicyEntry__Output as _bulwark_v1_PolicyEntry__Output } from '../../bulwark/v1/PolicyEntry.js';

export interface ListPoliciesResponse {
  'policies'?: (_bulwark_v1_PolicyEntry)[];
}

export interface ListPoliciesResponse__Output {
  'policies': (_bulwark_v1_PolicyEntry__Output)[];
}
