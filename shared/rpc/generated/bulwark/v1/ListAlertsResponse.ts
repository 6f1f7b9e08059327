// Original file: proto/bulwark/v1/controller.proto

import type { Alert as _bulwark_v1_Alert, Alert__Output as _bulwark_v1_Alert__Output } from '../../bulwark/v1/Alert.js';

export interface ListAlertsResponse {
  'alerts'?: (_bulwark_v1_Alert)[];
}

export interface ListAlertsResponse__Output {
  'alerts': (_bulwark_v1_Alert__Output)[];
}
