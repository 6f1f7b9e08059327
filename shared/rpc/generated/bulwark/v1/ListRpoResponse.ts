// Original file: proto/bulwark/v1/controller.proto

import type { RpoEntry as _bulwark_v1_RpoEntry, RpoEntry__Output as _bulwark_v1_RpoEntry__Output } from '../../bulwark/v1/RpoEntry.js';

export interface ListRpoResponse {
  'now'?: (string);
  'entries'?: (_bulwark_v1_RpoEntry)[];
}

export interface ListRpoResponse__Output {
  'now': (string);
  'entries': (_bulwark_v1_RpoEntry__Output)[];
}
