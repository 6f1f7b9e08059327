// Original file: proto/bulwark/v1/controller.proto

import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';
import type { VmReplicationLag as _bulwark_v1_VmReplicationLag, VmReplicationLag__Output as _bulwark_v1_VmReplicationLag__Output } from '../../bulwark/v1/VmReplicationLag.js';
import type { Long } from '@grpc/proto-loader';

export interface ReplicationPairStatus {
  'fromSite'?: (string);
  'toSite'?: (string);
  'mode'?: (string);
  'intervalMs'?: (number | string | Long);
  'rateBytesPerSecond'?: (number | string | Long);
  'concurrency'?: (number);
  'configured'?: (boolean);
  'lastSync'?: (_bulwark_v1_Job | null);
  'lastSuccessAt'?: (string);
  'vms'?: (_bulwark_v1_VmReplicationLag)[];
}

export interface ReplicationPairStatus__Output {
  'fromSite': (string);
  'toSite': (string);
  'mode': (string);
  'intervalMs': (number);
  'rateBytesPerSecond': (number);
  'concurrency': (number);
  'configured': (boolean);
  'lastSync': (_bulwark_v1_Job__Output | null);
  'lastSuccessAt': (string);
  'vms': (_bulwark_v1_VmReplicationLag__Output)[];
}
