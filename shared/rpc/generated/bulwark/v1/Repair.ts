// Original file: proto/bulwark/v1/controller.proto

import type { AffectedRange as _bulwark_v1_AffectedRange, AffectedRange__Output as _bulwark_v1_AffectedRange__Output } from '../../bulwark/v1/AffectedRange.js';
import type { Long } from '@grpc/proto-loader';

export interface Repair {
  'repairId'?: (string);
  'site'?: (string);
  'object'?: (string);
  'digest'?: (string);
  'backupId'?: (string);
  'disk'?: (string);
  'problem'?: (string);
  'trigger'?: (string);
  'peer'?: (string);
  'bytes'?: (number | string | Long);
  'at'?: (string);
  'affected'?: (_bulwark_v1_AffectedRange)[];
}

export interface Repair__Output {
  'repairId': (string);
  'site': (string);
  'object': (string);
  'digest': (string);
  'backupId': (string);
  'disk': (string);
  'problem': (string);
  'trigger': (string);
  'peer': (string);
  'bytes': (number);
  'at': (string);
  'affected': (_bulwark_v1_AffectedRange__Output)[];
}
