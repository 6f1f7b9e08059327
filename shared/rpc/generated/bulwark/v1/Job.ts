// Original file: proto/bulwark/v1/controller.proto

import type { JobProgress as _bulwark_v1_JobProgress, JobProgress__Output as _bulwark_v1_JobProgress__Output } from '../../bulwark/v1/JobProgress.js';

export interface Job {
  'id'?: (string);
  'kind'?: (string);
  'state'?: (string);
  'site'?: (string);
  'worker'?: (string);
  'vm'?: (string);
  'attempt'?: (number);
  'createdAt'?: (string);
  'startedAt'?: (string);
  'finishedAt'?: (string);
  'error'?: (string);
  'progress'?: (_bulwark_v1_JobProgress | null);
  'paramsJson'?: (string);
  'resultJson'?: (string);
  'cancelRequestedAt'?: (string);
  'policy'?: (string);
  'priority'?: (number);
  'dueAt'?: (string);
  'notBefore'?: (string);
  'startBy'?: (string);
  'maxAttempts'?: (number);
  'publishedAt'?: (string);
}

export interface Job__Output {
  'id': (string);
  'kind': (string);
  'state': (string);
  'site': (string);
  'worker': (string);
  'vm': (string);
  'attempt': (number);
  'createdAt': (string);
  'startedAt': (string);
  'finishedAt': (string);
  'error': (string);
  'progress': (_bulwark_v1_JobProgress__Output | null);
  'paramsJson': (string);
  'resultJson': (string);
  'cancelRequestedAt': (string);
  'policy': (string);
  'priority': (number);
  'dueAt': (string);
  'notBefore': (string);
  'startBy': (string);
  'maxAttempts': (number);
  'publishedAt': (string);
}
