// Original file: proto/bulwark/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface VmReplicationLag {
  'vm'?: (string);
  'newestAtPrimaryId'?: (string);
  'newestAtPrimaryAt'?: (string);
  'newestAtReplicaId'?: (string);
  'newestAtReplicaAt'?: (string);
  'lagMs'?: (number | string | Long);
  'notYetReplicated'?: (number);
  'dataAgeAtReplicaMs'?: (number | string | Long);
  'backupsAtPrimary'?: (number);
  'backupsAtReplica'?: (number);
  '_dataAgeAtReplicaMs'?: "dataAgeAtReplicaMs";
}

export interface VmReplicationLag__Output {
  'vm': (string);
  'newestAtPrimaryId': (string);
  'newestAtPrimaryAt': (string);
  'newestAtReplicaId': (string);
  'newestAtReplicaAt': (string);
  'lagMs': (number);
  'notYetReplicated': (number);
  'dataAgeAtReplicaMs'?: (number);
  'backupsAtPrimary': (number);
  'backupsAtReplica': (number);
  '_dataAgeAtReplicaMs'?: "dataAgeAtReplicaMs";
}
