// Original file: proto/bulwark/v1/controller.proto

import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';

export interface LockBackupResponse {
  'jobs'?: (_bulwark_v1_Job)[];
}

export interface LockBackupResponse__Output {
  'jobs': (_bulwark_v1_Job__Output)[];
}
