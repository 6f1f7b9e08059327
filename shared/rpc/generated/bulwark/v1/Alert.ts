// Original file: proto/bulwark/v1/controller.proto

import type { PeerAttempt as _bulwark_v1_PeerAttempt, PeerAttempt__Output as _bulwark_v1_PeerAttempt__Output } from '../../bulwark/v1/PeerAttempt.js';
import type { AffectedRange as _bulwark_v1_AffectedRange, AffectedRange__Output as _bulwark_v1_AffectedRange__Output } from '../../bulwark/v1/AffectedRange.js';

export interface Alert {
  'alertId'?: (string);
  'site'?: (string);
  'object'?: (string);
  'digest'?: (string);
  'backupId'?: (string);
  'disk'?: (string);
  'problem'?: (string);
  'peersTried'?: (_bulwark_v1_PeerAttempt)[];
  'raisedAt'?: (string);
  'affected'?: (_bulwark_v1_AffectedRange)[];
  'message'?: (string);
  'state'?: (string);
  'resolvedAt'?: (string);
  'resolution'?: (string);
}

export interface Alert__Output {
  'alertId': (string);
  'site': (string);
  'object': (string);
  'digest': (string);
  'backupId': (string);
  'disk': (string);
  'problem': (string);
  'peersTried': (_bulwark_v1_PeerAttempt__Output)[];
  'raisedAt': (string);
  'affected': (_bulwark_v1_AffectedRange__Output)[];
  'message': (string);
  'state': (string);
  'resolvedAt': (string);
  'resolution': (string);
}
