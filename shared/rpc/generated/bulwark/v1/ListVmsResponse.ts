// Original file: proto/bulwark/v1/controller.proto

import type { Vm as _bulwark_v1_Vm, Vm__Output as _bulwark_v1_Vm__Output } from '../../bulwark/v1/Vm.js';

export interface ListVmsResponse {
  'vms'?: (_bulwark_v1_Vm)[];
}

export interface ListVmsResponse__Output {
  'vms': (_bulwark_v1_Vm__Output)[];
}
