// Original file: proto/bulwark/v1/controller.proto

import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';

export interface ListJobsResponse {
  'jobs'?: (_bulwark_v1_Job)[];
}

export interface ListJobsResponse__Output {
  'jobs': (_bulwark_v1_Job__Output)[];
}
