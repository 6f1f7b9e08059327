// Original file: proto/bulwark/v1/controller.proto

import type { AuditEntry as _bulwark_v1_AuditEntry, AuditEntry__Output as _bulwark_v1_AuditEntry__Output } from '../../bulwark/v1/AuditEntry.js';

export interface ListAuditEntriesResponse {
  'entries'?: (_bulwark_v1_AuditEntry)[];
}

export interface ListAuditEntriesResponse__Output {
  'entries': (_bulwark_v1_AuditEntry__Output)[];
}
