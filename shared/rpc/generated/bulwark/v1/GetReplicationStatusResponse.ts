// Original file: proto/bulwark/v1/controller.proto

import type { ReplicationPairStatus as _bulwark_v1_ReplicationPairStatus, ReplicationPairStatus__Output as _bulwark_v1_ReplicationPairStatus__Output } from '../../bulwark/v1/ReplicationPairStatus.js';

export interface GetReplicationStatusResponse {
  'now'?: (string);
  'pairs'?: (_bulwark_v1_ReplicationPairStatus)[];
}

export interface GetReplicationStatusResponse__Output {
  'now': (string);
  'pairs': (_bulwark_v1_ReplicationPairStatus__Output)[];
}
