import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CatalogBackup as _bulwark_v1_CatalogBackup, CatalogBackup__Output as _bulwark_v1_CatalogBackup__Output } from './bulwark/v1/CatalogBackup.js';
import type { ControllerClient as _bulwark_v1_ControllerClient, ControllerDefinition as _bulwark_v1_ControllerDefinition } from './bulwark/v1/Controller.js';
import type { GetJobRequest as _bulwark_v1_GetJobRequest, GetJobRequest__Output as _bulwark_v1_GetJobRequest__Output } from './bulwark/v1/GetJobRequest.js';
import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from './bulwark/v1/Job.js';
import type { JobProgress as _bulwark_v1_JobProgress, JobProgress__Output as _bulwark_v1_JobProgress__Output } from './bulwark/v1/JobProgress.js';
import type { ListCatalogBackupsRequest as _bulwark_v1_ListCatalogBackupsRequest, ListCatalogBackupsRequest__Output as _bulwark_v1_ListCatalogBackupsRequest__Output } from './bulwark/v1/ListCatalogBackupsRequest.js';
import type { ListCatalogBackupsResponse as _bulwark_v1_ListCatalogBackupsResponse, ListCatalogBackupsResponse__Output as _bulwark_v1_ListCatalogBackupsResponse__Output } from './bulwark/v1/ListCatalogBackupsResponse.js';
import type { ListJobsRequest as _bulwark_v1_ListJobsRequest, ListJobsRequest__Output as _bulwark_v1_ListJobsRequest__Output } from './bulwark/v1/ListJobsRequest.js';
import type { ListJobsResponse as _bulwark_v1_ListJobsResponse, ListJobsResponse__Output as _bulwark_v1_ListJobsResponse__Output } from './bulwark/v1/ListJobsResponse.js';
import type { ListVmsRequest as _bulwark_v1_ListVmsRequest, ListVmsRequest__Output as _bulwark_v1_ListVmsRequest__Output } from './bulwark/v1/ListVmsRequest.js';
import type { ListVmsResponse as _bulwark_v1_ListVmsResponse, ListVmsResponse__Output as _bulwark_v1_ListVmsResponse__Output } from './bulwark/v1/ListVmsResponse.js';
import type { ListWorkersRequest as _bulwark_v1_ListWorkersRequest, ListWorkersRequest__Output as _bulwark_v1_ListWorkersRequest__Output } from './bulwark/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _bulwark_v1_ListWorkersResponse, ListWorkersResponse__Output as _bulwark_v1_ListWorkersResponse__Output } from './bulwark/v1/ListWorkersResponse.js';
import type { LockBackupRequest as _bulwark_v1_LockBackupRequest, LockBackupRequest__Output as _bulwark_v1_LockBackupRequest__Output } from './bulwark/v1/LockBackupRequest.js';
import type { LockBackupResponse as _bulwark_v1_LockBackupResponse, LockBackupResponse__Output as _bulwark_v1_LockBackupResponse__Output } from './bulwark/v1/LockBackupResponse.js';
import type { StartBackupRequest as _bulwark_v1_StartBackupRequest, StartBackupRequest__Output as _bulwark_v1_StartBackupRequest__Output } from './bulwark/v1/StartBackupRequest.js';
import type { StartGcRequest as _bulwark_v1_StartGcRequest, StartGcRequest__Output as _bulwark_v1_StartGcRequest__Output } from './bulwark/v1/StartGcRequest.js';
import type { StartPruneRequest as _bulwark_v1_StartPruneRequest, StartPruneRequest__Output as _bulwark_v1_StartPruneRequest__Output } from './bulwark/v1/StartPruneRequest.js';
import type { StartRestoreRequest as _bulwark_v1_StartRestoreRequest, StartRestoreRequest__Output as _bulwark_v1_StartRestoreRequest__Output } from './bulwark/v1/StartRestoreRequest.js';
import type { StartSnapshotRequest as _bulwark_v1_StartSnapshotRequest, StartSnapshotRequest__Output as _bulwark_v1_StartSnapshotRequest__Output } from './bulwark/v1/StartSnapshotRequest.js';
import type { StartSyncRequest as _bulwark_v1_StartSyncRequest, StartSyncRequest__Output as _bulwark_v1_StartSyncRequest__Output } from './bulwark/v1/StartSyncRequest.js';
import type { StartVerifyRequest as _bulwark_v1_StartVerifyRequest, StartVerifyRequest__Output as _bulwark_v1_StartVerifyRequest__Output } from './bulwark/v1/StartVerifyRequest.js';
import type { Vm as _bulwark_v1_Vm, Vm__Output as _bulwark_v1_Vm__Output } from './bulwark/v1/Vm.js';
import type { VmDisk as _bulwark_v1_VmDisk, VmDisk__Output as _bulwark_v1_VmDisk__Output } from './bulwark/v1/VmDisk.js';
import type { WatchJobRequest as _bulwark_v1_WatchJobRequest, WatchJobRequest__Output as _bulwark_v1_WatchJobRequest__Output } from './bulwark/v1/WatchJobRequest.js';
import type { Worker as _bulwark_v1_Worker, Worker__Output as _bulwark_v1_Worker__Output } from './bulwark/v1/Worker.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  bulwark: {
    v1: {
      CatalogBackup: MessageTypeDefinition<_bulwark_v1_CatalogBackup, _bulwark_v1_CatalogBackup__Output>
      Controller: SubtypeConstructor<typeof grpc.Client, _bulwark_v1_ControllerClient> & { service: _bulwark_v1_ControllerDefinition }
      GetJobRequest: MessageTypeDefinition<_bulwark_v1_GetJobRequest, _bulwark_v1_GetJobRequest__Output>
      Job: MessageTypeDefinition<_bulwark_v1_Job, _bulwark_v1_Job__Output>
      JobProgress: MessageTypeDefinition<_bulwark_v1_JobProgress, _bulwark_v1_JobProgress__Output>
      ListCatalogBackupsRequest: MessageTypeDefinition<_bulwark_v1_ListCatalogBackupsRequest, _bulwark_v1_ListCatalogBackupsRequest__Output>
      ListCatalogBackupsResponse: MessageTypeDefinition<_bulwark_v1_ListCatalogBackupsResponse, _bulwark_v1_ListCatalogBackupsResponse__Output>
      ListJobsRequest: MessageTypeDefinition<_bulwark_v1_ListJobsRequest, _bulwark_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_bulwark_v1_ListJobsResponse, _bulwark_v1_ListJobsResponse__Output>
      ListVmsRequest: MessageTypeDefinition<_bulwark_v1_ListVmsRequest, _bulwark_v1_ListVmsRequest__Output>
      ListVmsResponse: MessageTypeDefinition<_bulwark_v1_ListVmsResponse, _bulwark_v1_ListVmsResponse__Output>
      ListWorkersRequest: MessageTypeDefinition<_bulwark_v1_ListWorkersRequest, _bulwark_v1_ListWorkersRequest__Output>
      ListWorkersResponse: MessageTypeDefinition<_bulwark_v1_ListWorkersResponse, _bulwark_v1_ListWorkersResponse__Output>
      LockBackupRequest: MessageTypeDefinition<_bulwark_v1_LockBackupRequest, _bulwark_v1_LockBackupRequest__Output>
      LockBackupResponse: MessageTypeDefinition<_bulwark_v1_LockBackupResponse, _bulwark_v1_LockBackupResponse__Output>
      StartBackupRequest: MessageTypeDefinition<_bulwark_v1_StartBackupRequest, _bulwark_v1_StartBackupRequest__Output>
      StartGcRequest: MessageTypeDefinition<_bulwark_v1_StartGcRequest, _bulwark_v1_StartGcRequest__Output>
      StartPruneRequest: MessageTypeDefinition<_bulwark_v1_StartPruneRequest, _bulwark_v1_StartPruneRequest__Output>
      StartRestoreRequest: MessageTypeDefinition<_bulwark_v1_StartRestoreRequest, _bulwark_v1_StartRestoreRequest__Output>
      StartSnapshotRequest: MessageTypeDefinition<_bulwark_v1_StartSnapshotRequest, _bulwark_v1_StartSnapshotRequest__Output>
      StartSyncRequest: MessageTypeDefinition<_bulwark_v1_StartSyncRequest, _bulwark_v1_StartSyncRequest__Output>
      StartVerifyRequest: MessageTypeDefinition<_bulwark_v1_StartVerifyRequest, _bulwark_v1_StartVerifyRequest__Output>
      Vm: MessageTypeDefinition<_bulwark_v1_Vm, _bulwark_v1_Vm__Output>
      VmDisk: MessageTypeDefinition<_bulwark_v1_VmDisk, _bulwark_v1_VmDisk__Output>
      WatchJobRequest: MessageTypeDefinition<_bulwark_v1_WatchJobRequest, _bulwark_v1_WatchJobRequest__Output>
      Worker: MessageTypeDefinition<_bulwark_v1_Worker, _bulwark_v1_Worker__Output>
    }
  }
}

