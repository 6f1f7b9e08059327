// Original file: proto/bulwark/v1/controller.proto

import type { VmDisk as _bulwark_v1_VmDisk, VmDisk__Output as _bulwark_v1_VmDisk__Output } from '../../bulwark/v1/VmDisk.js';

export interface Vm {
  'name'?: (string);
  'site'?: (string);
  'worker'?: (string);
  'hypervisor'?: (string);
  'disks'?: (_bulwark_v1_VmDisk)[];
  'lastBackupId'?: (string);
  'lastBackupAt'?: (string);
  'tags'?: (string)[];
}

export interface Vm__Output {
  'name': (string);
  'site': (string);
  'worker': (string);
  'hypervisor': (string);
  'disks': (_bulwark_v1_VmDisk__Output)[];
  'lastBackupId': (string);
  'lastBackupAt': (string);
  'tags': (string)[];
}
