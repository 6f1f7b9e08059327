// Original file: proto/bulwark/v1/controller.proto

import type { Worker as _bulwark_v1_Worker, Worker__Output as _bulwark_v1_Worker__Output } from '../../bulwark/v1/Worker.js';
import type { VmStatus as _bulwark_v1_VmStatus, VmStatus__Output as _bulwark_v1_VmStatus__Output } from '../../bulwark/v1/VmStatus.js';
import type { Alert as _bulwark_v1_Alert, Alert__Output as _bulwark_v1_Alert__Output } from '../../bulwark/v1/Alert.js';
import type { ReplicationPairStatus as _bulwark_v1_ReplicationPairStatus, ReplicationPairStatus__Output as _bulwark_v1_ReplicationPairStatus__Output } from '../../bulwark/v1/ReplicationPairStatus.js';
import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';
import type { RpoEntry as _bulwark_v1_RpoEntry, RpoEntry__Output as _bulwark_v1_RpoEntry__Output } from '../../bulwark/v1/RpoEntry.js';
import type { Long } from '@grpc/proto-loader';

export interface GetStatusResponse {
  'now'?: (string);
  'workers'?: (_bulwark_v1_Worker)[];
  'vms'?: (_bulwark_v1_VmStatus)[];
  'openAlerts'?: (_bulwark_v1_Alert)[];
  'replication'?: (_bulwark_v1_ReplicationPairStatus)[];
  'activeJobs'?: (_bulwark_v1_Job)[];
  'failedJobs'?: (_bulwark_v1_Job)[];
  'failedWithinMs'?: (number | string | Long);
  'rpo'?: (_bulwark_v1_RpoEntry)[];
  'needsAttention'?: (string)[];
}

export interface GetStatusResponse__Output {
  'now': (string);
  'workers': (_bulwark_v1_Worker__Output)[];
  'vms': (_bulwark_v1_VmStatus__Output)[];
  'openAlerts': (_bulwark_v1_Alert__Output)[];
  'replication': (_bulwark_v1_ReplicationPairStatus__Output)[];
  'activeJobs': (_bulwark_v1_Job__Output)[];
  'failedJobs': (_bulwark_v1_Job__Output)[];
  'failedWithinMs': (number);
  'rpo': (_bulwark_v1_RpoEntry__Output)[];
  'needsAttention': (string)[];
}
