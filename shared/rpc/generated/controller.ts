import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AffectedRange as _bulwark_v1_AffectedRange, AffectedRange__Output as _bulwark_v1_AffectedRange__Output } from './bulwark/v1/AffectedRange.js';
import type { Alert as _bulwark_v1_Alert, Alert__Output as _bulwark_v1_Alert__Output } from './bulwark/v1/Alert.js';
import type { ApiToken as _bulwark_v1_ApiToken, ApiToken__Output as _bulwark_v1_ApiToken__Output } from './bulwark/v1/ApiToken.js';
import type { AssignPolicyRequest as _bulwark_v1_AssignPolicyRequest, AssignPolicyRequest__Output as _bulwark_v1_AssignPolicyRequest__Output } from './bulwark/v1/AssignPolicyRequest.js';
import type { AuditEntry as _bulwark_v1_AuditEntry, AuditEntry__Output as _bulwark_v1_AuditEntry__Output } from './bulwark/v1/AuditEntry.js';
import type { CancelJobRequest as _bulwark_v1_CancelJobRequest, CancelJobRequest__Output as _bulwark_v1_CancelJobRequest__Output } from './bulwark/v1/CancelJobRequest.js';
import type { CatalogBackup as _bulwark_v1_CatalogBackup, CatalogBackup__Output as _bulwark_v1_CatalogBackup__Output } from './bulwark/v1/CatalogBackup.js';
import type { ControllerClient as _bulwark_v1_ControllerClient, ControllerDefinition as _bulwark_v1_ControllerDefinition } from './bulwark/v1/Controller.js';
import type { CreateApiTokenRequest as _bulwark_v1_CreateApiTokenRequest, CreateApiTokenRequest__Output as _bulwark_v1_CreateApiTokenRequest__Output } from './bulwark/v1/CreateApiTokenRequest.js';
import type { CreateApiTokenResponse as _bulwark_v1_CreateApiTokenResponse, CreateApiTokenResponse__Output as _bulwark_v1_CreateApiTokenResponse__Output } from './bulwark/v1/CreateApiTokenResponse.js';
import type { CreatePolicyRequest as _bulwark_v1_CreatePolicyRequest, CreatePolicyRequest__Output as _bulwark_v1_CreatePolicyRequest__Output } from './bulwark/v1/CreatePolicyRequest.js';
import type { DeletePolicyRequest as _bulwark_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _bulwark_v1_DeletePolicyRequest__Output } from './bulwark/v1/DeletePolicyRequest.js';
import type { DeletePolicyResponse as _bulwark_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _bulwark_v1_DeletePolicyResponse__Output } from './bulwark/v1/DeletePolicyResponse.js';
import type { GetJobRequest as _bulwark_v1_GetJobRequest, GetJobRequest__Output as _bulwark_v1_GetJobRequest__Output } from './bulwark/v1/GetJobRequest.js';
import type { GetPolicyRequest as _bulwark_v1_GetPolicyRequest, GetPolicyRequest__Output as _bulwark_v1_GetPolicyRequest__Output } from './bulwark/v1/GetPolicyRequest.js';
import type { GetReplicationStatusRequest as _bulwark_v1_GetReplicationStatusRequest, GetReplicationStatusRequest__Output as _bulwark_v1_GetReplicationStatusRequest__Output } from './bulwark/v1/GetReplicationStatusRequest.js';
import type { GetReplicationStatusResponse as _bulwark_v1_GetReplicationStatusResponse, GetReplicationStatusResponse__Output as _bulwark_v1_GetReplicationStatusResponse__Output } from './bulwark/v1/GetReplicationStatusResponse.js';
import type { GetStatusRequest as _bulwark_v1_GetStatusRequest, GetStatusRequest__Output as _bulwark_v1_GetStatusRequest__Output } from './bulwark/v1/GetStatusRequest.js';
import type { GetStatusResponse as _bulwark_v1_GetStatusResponse, GetStatusResponse__Output as _bulwark_v1_GetStatusResponse__Output } from './bulwark/v1/GetStatusResponse.js';
import type { ImportCatalogRequest as _bulwark_v1_ImportCatalogRequest, ImportCatalogRequest__Output as _bulwark_v1_ImportCatalogRequest__Output } from './bulwark/v1/ImportCatalogRequest.js';
import type { ImportCatalogResponse as _bulwark_v1_ImportCatalogResponse, ImportCatalogResponse__Output as _bulwark_v1_ImportCatalogResponse__Output } from './bulwark/v1/ImportCatalogResponse.js';
import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from './bulwark/v1/Job.js';
import type { JobProgress as _bulwark_v1_JobProgress, JobProgress__Output as _bulwark_v1_JobProgress__Output } from './bulwark/v1/JobProgress.js';
import type { ListAlertsRequest as _bulwark_v1_ListAlertsRequest, ListAlertsRequest__Output as _bulwark_v1_ListAlertsRequest__Output } from './bulwark/v1/ListAlertsRequest.js';
import type { ListAlertsResponse as _bulwark_v1_ListAlertsResponse, ListAlertsResponse__Output as _bulwark_v1_ListAlertsResponse__Output } from './bulwark/v1/ListAlertsResponse.js';
import type { ListApiTokensRequest as _bulwark_v1_ListApiTokensRequest, ListApiTokensRequest__Output as _bulwark_v1_ListApiTokensRequest__Output } from './bulwark/v1/ListApiTokensRequest.js';
import type { ListApiTokensResponse as _bulwark_v1_ListApiTokensResponse, ListApiTokensResponse__Output as _bulwark_v1_ListApiTokensResponse__Output } from './bulwark/v1/ListApiTokensResponse.js';
import type { ListAuditEntriesRequest as _bulwark_v1_ListAuditEntriesRequest, ListAuditEntriesRequest__Output as _bulwark_v1_ListAuditEntriesRequest__Output } from './bulwark/v1/ListAuditEntriesRequest.js';
import type { ListAuditEntriesResponse as _bulwark_v1_ListAuditEntriesResponse, ListAuditEntriesResponse__Output as _bulwark_v1_ListAuditEntriesResponse__Output } from './bulwark/v1/ListAuditEntriesResponse.js';
import type { ListCatalogBackupsRequest as _bulwark_v1_ListCatalogBackupsRequest, ListCatalogBackupsRequest__Output as _bulwark_v1_ListCatalogBackupsRequest__Output } from './bulwark/v1/ListCatalogBackupsRequest.js';
import type { ListCatalogBackupsResponse as _bulwark_v1_ListCatalogBackupsResponse, ListCatalogBackupsResponse__Output as _bulwark_v1_ListCatalogBackupsResponse__Output } from './bulwark/v1/ListCatalogBackupsResponse.js';
import type { ListJobsRequest as _bulwark_v1_ListJobsRequest, ListJobsRequest__Output as _bulwark_v1_ListJobsRequest__Output } from './bulwark/v1/ListJobsRequest.js';
import type { ListJobsResponse as _bulwark_v1_ListJobsResponse, ListJobsResponse__Output as _bulwark_v1_ListJobsResponse__Output } from './bulwark/v1/ListJobsResponse.js';
import type { ListPoliciesRequest as _bulwark_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _bulwark_v1_ListPoliciesRequest__Output } from './bulwark/v1/ListPoliciesRequest.js';
import type { ListPoliciesResponse as _bulwark_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _bulwark_v1_ListPoliciesResponse__Output } from './bulwark/v1/ListPoliciesResponse.js';
import type { ListRepairsRequest as _bulwark_v1_ListRepairsRequest, ListRepairsRequest__Output as _bulwark_v1_ListRepairsRequest__Output } from './bulwark/v1/ListRepairsRequest.js';
import type { ListRepairsResponse as _bulwark_v1_ListRepairsResponse, ListRepairsResponse__Output as _bulwark_v1_ListRepairsResponse__Output } from './bulwark/v1/ListRepairsResponse.js';
import type { ListRpoRequest as _bulwark_v1_ListRpoRequest, ListRpoRequest__Output as _bulwark_v1_ListRpoRequest__Output } from './bulwark/v1/ListRpoRequest.js';
import type { ListRpoResponse as _bulwark_v1_ListRpoResponse, ListRpoResponse__Output as _bulwark_v1_ListRpoResponse__Output } from './bulwark/v1/ListRpoResponse.js';
import type { ListVmsRequest as _bulwark_v1_ListVmsRequest, ListVmsRequest__Output as _bulwark_v1_ListVmsRequest__Output } from './bulwark/v1/ListVmsRequest.js';
import type { ListVmsResponse as _bulwark_v1_ListVmsResponse, ListVmsResponse__Output as _bulwark_v1_ListVmsResponse__Output } from './bulwark/v1/ListVmsResponse.js';
import type { ListWorkersRequest as _bulwark_v1_ListWorkersRequest, ListWorkersRequest__Output as _bulwark_v1_ListWorkersRequest__Output } from './bulwark/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _bulwark_v1_ListWorkersResponse, ListWorkersResponse__Output as _bulwark_v1_ListWorkersResponse__Output } from './bulwark/v1/ListWorkersResponse.js';
import type { LockBackupRequest as _bulwark_v1_LockBackupRequest, LockBackupRequest__Output as _bulwark_v1_LockBackupRequest__Output } from './bulwark/v1/LockBackupRequest.js';
import type { LockBackupResponse as _bulwark_v1_LockBackupResponse, LockBackupResponse__Output as _bulwark_v1_LockBackupResponse__Output } from './bulwark/v1/LockBackupResponse.js';
import type { NewestCopy as _bulwark_v1_NewestCopy, NewestCopy__Output as _bulwark_v1_NewestCopy__Output } from './bulwark/v1/NewestCopy.js';
import type { PeerAttempt as _bulwark_v1_PeerAttempt, PeerAttempt__Output as _bulwark_v1_PeerAttempt__Output } from './bulwark/v1/PeerAttempt.js';
import type { PolicyEntry as _bulwark_v1_PolicyEntry, PolicyEntry__Output as _bulwark_v1_PolicyEntry__Output } from './bulwark/v1/PolicyEntry.js';
import type { Repair as _bulwark_v1_Repair, Repair__Output as _bulwark_v1_Repair__Output } from './bulwark/v1/Repair.js';
import type { ReplicationPairStatus as _bulwark_v1_ReplicationPairStatus, ReplicationPairStatus__Output as _bulwark_v1_ReplicationPairStatus__Output } from './bulwark/v1/ReplicationPairStatus.js';
import type { RevokeApiTokenRequest as _bulwark_v1_RevokeApiTokenRequest, RevokeApiTokenRequest__Output as _bulwark_v1_RevokeApiTokenRequest__Output } from './bulwark/v1/RevokeApiTokenRequest.js';
import type { RpoEntry as _bulwark_v1_RpoEntry, RpoEntry__Output as _bulwark_v1_RpoEntry__Output } from './bulwark/v1/RpoEntry.js';
import type { SkippedBackup as _bulwark_v1_SkippedBackup, SkippedBackup__Output as _bulwark_v1_SkippedBackup__Output } from './bulwark/v1/SkippedBackup.js';
import type { StartBackupRequest as _bulwark_v1_StartBackupRequest, StartBackupRequest__Output as _bulwark_v1_StartBackupRequest__Output } from './bulwark/v1/StartBackupRequest.js';
import type { StartGcRequest as _bulwark_v1_StartGcRequest, StartGcRequest__Output as _bulwark_v1_StartGcRequest__Output } from './bulwark/v1/StartGcRequest.js';
import type { StartPruneRequest as _bulwark_v1_StartPruneRequest, StartPruneRequest__Output as _bulwark_v1_StartPruneRequest__Output } from './bulwark/v1/StartPruneRequest.js';
import type { StartRestoreRequest as _bulwark_v1_StartRestoreRequest, StartRestoreRequest__Output as _bulwark_v1_StartRestoreRequest__Output } from './bulwark/v1/StartRestoreRequest.js';
import type { StartSnapshotRequest as _bulwark_v1_StartSnapshotRequest, StartSnapshotRequest__Output as _bulwark_v1_StartSnapshotRequest__Output } from './bulwark/v1/StartSnapshotRequest.js';
import type { StartSyncRequest as _bulwark_v1_StartSyncRequest, StartSyncRequest__Output as _bulwark_v1_StartSyncRequest__Output } from './bulwark/v1/StartSyncRequest.js';
import type { StartVerifyRequest as _bulwark_v1_StartVerifyRequest, StartVerifyRequest__Output as _bulwark_v1_StartVerifyRequest__Output } from './bulwark/v1/StartVerifyRequest.js';
import type { UpdatePolicyRequest as _bulwark_v1_UpdatePolicyRequest, UpdatePolicyRequest__Output as _bulwark_v1_UpdatePolicyRequest__Output } from './bulwark/v1/UpdatePolicyRequest.js';
import type { Vm as _bulwark_v1_Vm, Vm__Output as _bulwark_v1_Vm__Output } from './bulwark/v1/Vm.js';
import type { VmDisk as _bulwark_v1_VmDisk, VmDisk__Output as _bulwark_v1_VmDisk__Output } from './bulwark/v1/VmDisk.js';
import type { VmReplicationLag as _bulwark_v1_VmReplicationLag, VmReplicationLag__Output as _bulwark_v1_VmReplicationLag__Output } from './bulwark/v1/VmReplicationLag.js';
import type { VmStatus as _bulwark_v1_VmStatus, VmStatus__Output as _bulwark_v1_VmStatus__Output } from './bulwark/v1/VmStatus.js';
import type { WatchJobRequest as _bulwark_v1_WatchJobRequest, WatchJobRequest__Output as _bulwark_v1_WatchJobRequest__Output } from './bulwark/v1/WatchJobRequest.js';
import type { Worker as _bulwark_v1_Worker, Worker__Output as _bulwark_v1_Worker__Output } from './bulwark/v1/Worker.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  bulwark: {
    v1: {
      AffectedRange: MessageTypeDefinition<_bulwark_v1_AffectedRange, _bulwark_v1_AffectedRange__Output>
      Alert: MessageTypeDefinition<_bulwark_v1_Alert, _bulwark_v1_Alert__Output>
      ApiToken: MessageTypeDefinition<_bulwark_v1_ApiToken, _bulwark_v1_ApiToken__Output>
      AssignPolicyRequest: MessageTypeDefinition<_bulwark_v1_AssignPolicyRequest, _bulwark_v1_AssignPolicyRequest__Output>
      AuditEntry: MessageTypeDefinition<_bulwark_v1_AuditEntry, _bulwark_v1_AuditEntry__Output>
      CancelJobRequest: MessageTypeDefinition<_bulwark_v1_CancelJobRequest, _bulwark_v1_CancelJobRequest__Output>
      CatalogBackup: MessageTypeDefinition<_bulwark_v1_CatalogBackup, _bulwark_v1_CatalogBackup__Output>
      Controller: SubtypeConstructor<typeof grpc.Client, _bulwark_v1_ControllerClient> & { service: _bulwark_v1_ControllerDefinition }
      CreateApiTokenRequest: MessageTypeDefinition<_bulwark_v1_CreateApiTokenRequest, _bulwark_v1_CreateApiTokenRequest__Output>
      CreateApiTokenResponse: MessageTypeDefinition<_bulwark_v1_CreateApiTokenResponse, _bulwark_v1_CreateApiTokenResponse__Output>
      CreatePolicyRequest: MessageTypeDefinition<_bulwark_v1_CreatePolicyRequest, _bulwark_v1_CreatePolicyRequest__Output>
      DeletePolicyRequest: MessageTypeDefinition<_bulwark_v1_DeletePolicyRequest, _bulwark_v1_DeletePolicyRequest__Output>
      DeletePolicyResponse: MessageTypeDefinition<_bulwark_v1_DeletePolicyResponse, _bulwark_v1_DeletePolicyResponse__Output>
      GetJobRequest: MessageTypeDefinition<_bulwark_v1_GetJobRequest, _bulwark_v1_GetJobRequest__Output>
      GetPolicyRequest: MessageTypeDefinition<_bulwark_v1_GetPolicyRequest, _bulwark_v1_GetPolicyRequest__Output>
      GetReplicationStatusRequest: MessageTypeDefinition<_bulwark_v1_GetReplicationStatusRequest, _bulwark_v1_GetReplicationStatusRequest__Output>
      GetReplicationStatusResponse: MessageTypeDefinition<_bulwark_v1_GetReplicationStatusResponse, _bulwark_v1_GetReplicationStatusResponse__Output>
      GetStatusRequest: MessageTypeDefinition<_bulwark_v1_GetStatusRequest, _bulwark_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_bulwark_v1_GetStatusResponse, _bulwark_v1_GetStatusResponse__Output>
      ImportCatalogRequest: MessageTypeDefinition<_bulwark_v1_ImportCatalogRequest, _bulwark_v1_ImportCatalogRequest__Output>
      ImportCatalogResponse: MessageTypeDefinition<_bulwark_v1_ImportCatalogResponse, _bulwark_v1_ImportCatalogResponse__Output>
      Job: MessageTypeDefinition<_bulwark_v1_Job, _bulwark_v1_Job__Output>
      JobProgress: MessageTypeDefinition<_bulwark_v1_JobProgress, _bulwark_v1_JobProgress__Output>
      ListAlertsRequest: MessageTypeDefinition<_bulwark_v1_ListAlertsRequest, _bulwark_v1_ListAlertsRequest__Output>
      ListAlertsResponse: MessageTypeDefinition<_bulwark_v1_ListAlertsResponse, _bulwark_v1_ListAlertsResponse__Output>
      ListApiTokensRequest: MessageTypeDefinition<_bulwark_v1_ListApiTokensRequest, _bulwark_v1_ListApiTokensRequest__Output>
      ListApiTokensResponse: MessageTypeDefinition<_bulwark_v1_ListApiTokensResponse, _bulwark_v1_ListApiTokensResponse__Output>
      ListAuditEntriesRequest: MessageTypeDefinition<_bulwark_v1_ListAuditEntriesRequest, _bulwark_v1_ListAuditEntriesRequest__Output>
      ListAuditEntriesResponse: MessageTypeDefinition<_bulwark_v1_ListAuditEntriesResponse, _bulwark_v1_ListAuditEntriesResponse__Output>
      ListCatalogBackupsRequest: MessageTypeDefinition<_bulwark_v1_ListCatalogBackupsRequest, _bulwark_v1_ListCatalogBackupsRequest__Output>
      ListCatalogBackupsResponse: MessageTypeDefinition<_bulwark_v1_ListCatalogBackupsResponse, _bulwark_v1_ListCatalogBackupsResponse__Output>
      ListJobsRequest: MessageTypeDefinition<_bulwark_v1_ListJobsRequest, _bulwark_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_bulwark_v1_ListJobsResponse, _bulwark_v1_ListJobsResponse__Output>
      ListPoliciesRequest: MessageTypeDefinition<_bulwark_v1_ListPoliciesRequest, _bulwark_v1_ListPoliciesRequest__Output>
      ListPoliciesResponse: MessageTypeDefinition<_bulwark_v1_ListPoliciesResponse, _bulwark_v1_ListPoliciesResponse__Output>
      ListRepairsRequest: MessageTypeDefinition<_bulwark_v1_ListRepairsRequest, _bulwark_v1_ListRepairsRequest__Output>
      ListRepairsResponse: MessageTypeDefinition<_bulwark_v1_ListRepairsResponse, _bulwark_v1_ListRepairsResponse__Output>
      ListRpoRequest: MessageTypeDefinition<_bulwark_v1_ListRpoRequest, _bulwark_v1_ListRpoRequest__Output>
      ListRpoResponse: MessageTypeDefinition<_bulwark_v1_ListRpoResponse, _bulwark_v1_ListRpoResponse__Output>
      ListVmsRequest: MessageTypeDefinition<_bulwark_v1_ListVmsRequest, _bulwark_v1_ListVmsRequest__Output>
      ListVmsResponse: MessageTypeDefinition<_bulwark_v1_ListVmsResponse, _bulwark_v1_ListVmsResponse__Output>
      ListWorkersRequest: MessageTypeDefinition<_bulwark_v1_ListWorkersRequest, _bulwark_v1_ListWorkersRequest__Output>
      ListWorkersResponse: MessageTypeDefinition<_bulwark_v1_ListWorkersResponse, _bulwark_v1_ListWorkersResponse__Output>
      LockBackupRequest: MessageTypeDefinition<_bulwark_v1_LockBackupRequest, _bulwark_v1_LockBackupRequest__Output>
      LockBackupResponse: MessageTypeDefinition<_bulwark_v1_LockBackupResponse, _bulwark_v1_LockBackupResponse__Output>
      NewestCopy: MessageTypeDefinition<_bulwark_v1_NewestCopy, _bulwark_v1_NewestCopy__Output>
      PeerAttempt: MessageTypeDefinition<_bulwark_v1_PeerAttempt, _bulwark_v1_PeerAttempt__Output>
      PolicyEntry: MessageTypeDefinition<_bulwark_v1_PolicyEntry, _bulwark_v1_PolicyEntry__Output>
      Repair: MessageTypeDefinition<_bulwark_v1_Repair, _bulwark_v1_Repair__Output>
      ReplicationPairStatus: MessageTypeDefinition<_bulwark_v1_ReplicationPairStatus, _bulwark_v1_ReplicationPairStatus__Output>
      RevokeApiTokenRequest: MessageTypeDefinition<_bulwark_v1_RevokeApiTokenRequest, _bulwark_v1_RevokeApiTokenRequest__Output>
      RpoEntry: MessageTypeDefinition<_bulwark_v1_RpoEntry, _bulwark_v1_RpoEntry__Output>
      SkippedBackup: MessageTypeDefinition<_bulwark_v1_SkippedBackup, _bulwark_v1_SkippedBackup__Output>
      StartBackupRequest: MessageTypeDefinition<_bulwark_v1_StartBackupRequest, _bulwark_v1_StartBackupRequest__Output>
      StartGcRequest: MessageTypeDefinition<_bulwark_v1_StartGcRequest, _bulwark_v1_StartGcRequest__Output>
      StartPruneRequest: MessageTypeDefinition<_bulwark_v1_StartPruneRequest, _bulwark_v1_StartPruneRequest__Output>
      StartRestoreRequest: MessageTypeDefinition<_bulwark_v1_StartRestoreRequest, _bulwark_v1_StartRestoreRequest__Output>
      StartSnapshotRequest: MessageTypeDefinition<_bulwark_v1_StartSnapshotRequest, _bulwark_v1_StartSnapshotRequest__Output>
      StartSyncRequest: MessageTypeDefinition<_bulwark_v1_StartSyncRequest, _bulwark_v1_StartSyncRequest__Output>
      StartVerifyRequest: MessageTypeDefinition<_bulwark_v1_StartVerifyRequest, _bulwark_v1_StartVerifyRequest__Output>
      UpdatePolicyRequest: MessageTypeDefinition<_bulwark_v1_UpdatePolicyRequest, _bulwark_v1_UpdatePolicyRequest__Output>
      Vm: MessageTypeDefinition<_bulwark_v1_Vm, _bulwark_v1_Vm__Output>
      VmDisk: MessageTypeDefinition<_bulwark_v1_VmDisk, _bulwark_v1_VmDisk__Output>
      VmReplicationLag: MessageTypeDefinition<_bulwark_v1_VmReplicationLag, _bulwark_v1_VmReplicationLag__Output>
      VmStatus: MessageTypeDefinition<_bulwark_v1_VmStatus, _bulwark_v1_VmStatus__Output>
      WatchJobRequest: MessageTypeDefinition<_bulwark_v1_WatchJobRequest, _bulwark_v1_WatchJobRequest__Output>
      Worker: MessageTypeDefinition<_bulwark_v1_Worker, _bulwark_v1_Worker__Output>
    }
  }
}

