// Original file: proto/bulwark/v1/blockstore.proto

import type { DiskSpec as _bulwark_v1_DiskSpec, DiskSpec__Output as _bulwark_v1_DiskSpec__Output } from '../../bulwark/v1/DiskSpec.js';

export interface BeginBackupRequest {
  'vm'?: (string);
  'disks'?: (_bulwark_v1_DiskSpec)[];
  'jobId'?: (string);
  'attempt'?: (number);
  'parentBackupId'?: (string);
  'mode'?: (string);
  'changeTracking'?: (string);
  'changeTrackingNote'?: (string);
  'checkpoint'?: (string);
  'consistency'?: (string);
  'consistencyNote'?: (string);
  'vmDefinitionJson'?: (string);
}

export interface BeginBackupRequest__Output {
  'vm': (string);
  'disks': (_bulwark_v1_DiskSpec__Output)[];
  'jobId': (string);
  'attempt': (number);
  'parentBackupId': (string);
  'mode': (string);
  'changeTracking': (string);
  'changeTrackingNote': (string);
  'checkpoint': (string);
  'consistency': (string);
  'consistencyNote': (string);
  'vmDefinitionJson': (string);
}
