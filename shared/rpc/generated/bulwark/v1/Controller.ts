// Original file: proto/bulwark/v1/controller.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApiToken as _bulwark_v1_ApiToken, ApiToken__Output as _bulwark_v1_ApiToken__Output } from '../../bulwark/v1/ApiToken.js';
import type { AssignPolicyRequest as _bulwark_v1_AssignPolicyRequest, AssignPolicyRequest__Output as _bulwark_v1_AssignPolicyRequest__Output } from '../../bulwark/v1/AssignPolicyRequest.js';
import type { CancelJobRequest as _bulwark_v1_CancelJobRequest, CancelJobRequest__Output as _bulwark_v1_CancelJobRequest__Output } from '../../bulwark/v1/CancelJobRequest.js';
import type { CreateApiTokenRequest as _bulwark_v1_CreateApiTokenRequest, CreateApiTokenRequest__Output as _bulwark_v1_CreateApiTokenRequest__Output } from '../../bulwark/v1/CreateApiTokenRequest.js';
import type { CreateApiTokenResponse as _bulwark_v1_CreateApiTokenResponse, CreateApiTokenResponse__Output as _bulwark_v1_CreateApiTokenResponse__Output } from '../../bulwark/v1/CreateApiTokenResponse.js';
import type { CreatePolicyRequest as _bulwark_v1_CreatePolicyRequest, CreatePolicyRequest__Output as _bulwark_v1_CreatePolicyRequest__Output } from '../../bulwark/v1/CreatePolicyRequest.js';
import type { DeletePolicyRequest as _bulwark_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _bulwark_v1_DeletePolicyRequest__Output } from '../../bulwark/v1/DeletePolicyRequest.js';
import type { DeletePolicyResponse as _bulwark_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _bulwark_v1_DeletePolicyResponse__Output } from '../../bulwark/v1/DeletePolicyResponse.js';
import type { GetJobRequest as _bulwark_v1_GetJobRequest, GetJobRequest__Output as _bulwark_v1_GetJobRequest__Output } from '../../bulwark/v1/GetJobRequest.js';
import type { GetPolicyRequest as _bulwark_v1_GetPolicyRequest, GetPolicyRequest__Output as _bulwark_v1_GetPolicyRequest__Output } from '../../bulwark/v1/GetPolicyRequest.js';
import type { GetReplicationStatusRequest as _bulwark_v1_GetReplicationStatusRequest, GetReplicationStatusRequest__Output as _bulwark_v1_GetReplicationStatusRequest__Output } from '../../bulwark/v1/GetReplicationStatusRequest.js';
import type { GetReplicationStatusResponse as _bulwark_v1_GetReplicationStatusResponse, GetReplicationStatusResponse__Output as _bulwark_v1_GetReplicationStatusResponse__Output } from '../../bulwark/v1/GetReplicationStatusResponse.js';
import type { GetStatusRequest as _bulwark_v1_GetStatusRequest, GetStatusRequest__Output as _bulwark_v1_GetStatusRequest__Output } from '../../bulwark/v1/GetStatusRequest.js';
import type { GetStatusResponse as _bulwark_v1_GetStatusResponse, GetStatusResponse__Output as _bulwark_v1_GetStatusResponse__Output } from '../../bulwark/v1/GetStatusResponse.js';
import type { ImportCatalogRequest as _bulwark_v1_ImportCatalogRequest, ImportCatalogRequest__Output as _bulwark_v1_ImportCatalogRequest__Output } from '../../bulwark/v1/ImportCatalogRequest.js';
import type { ImportCatalogResponse as _bulwark_v1_ImportCatalogResponse, ImportCatalogResponse__Output as _bulwark_v1_ImportCatalogResponse__Output } from '../../bulwark/v1/ImportCatalogResponse.js';
import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';
import type { ListAlertsRequest as _bulwark_v1_ListAlertsRequest, ListAlertsRequest__Output as _bulwark_v1_ListAlertsRequest__Output } from '../../bulwark/v1/ListAlertsRequest.js';
import type { ListAlertsResponse as _bulwark_v1_ListAlertsResponse, ListAlertsResponse__Output as _bulwark_v1_ListAlertsResponse__Output } from '../../bulwark/v1/ListAlertsResponse.js';
import type { ListApiTokensRequest as _bulwark_v1_ListApiTokensRequest, ListApiTokensRequest__Output as _bulwark_v1_ListApiTokensRequest__Output } from '../../bulwark/v1/ListApiTokensRequest.js';
import type { ListApiTokensResponse as _bulwark_v1_ListApiTokensResponse, ListApiTokensResponse__Output as _bulwark_v1_ListApiTokensResponse__Output } from '../../bulwark/v1/ListApiTokensResponse.js';
import type { ListAuditEntriesRequest as _bulwark_v1_ListAuditEntriesRequest, ListAuditEntriesRequest__Output as _bulwark_v1_ListAuditEntriesRequest__Output } from '../../bulwark/v1/ListAuditEntriesRequest.js';
import type { ListAuditEntriesResponse as _bulwark_v1_ListAuditEntriesResponse, ListAuditEntriesResponse__Output as _bulwark_v1_ListAuditEntriesResponse__Output } from '../../bulwark/v1/ListAuditEntriesResponse.js';
import type { ListCatalogBackupsRequest as _bulwark_v1_ListCatalogBackupsRequest, ListCatalogBackupsRequest__Output as _bulwark_v1_ListCatalogBackupsRequest__Output } from '../../bulwark/v1/ListCatalogBackupsRequest.js';
import type { ListCatalogBackupsResponse as _bulwark_v1_ListCatalogBackupsResponse, ListCatalogBackupsResponse__Output as _bulwark_v1_ListCatalogBackupsResponse__Output } from '../../bulwark/v1/ListCatalogBackupsResponse.js';
import type { ListJobsRequest as _bulwark_v1_ListJobsRequest, ListJobsRequest__Output as _bulwark_v1_ListJobsRequest__Output } from '../../bulwark/v1/ListJobsRequest.js';
import type { ListJobsResponse as _bulwark_v1_ListJobsResponse, ListJobsResponse__Output as _bulwark_v1_ListJobsResponse__Output } from '../../bulwark/v1/ListJobsResponse.js';
import type { ListPoliciesRequest as _bulwark_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _bulwark_v1_ListPoliciesRequest__Output } from '../../bulwark/v1/ListPoliciesRequest.js';
import type { ListPoliciesResponse as _bulwark_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _bulwark_v1_ListPoliciesResponse__Output } from '../../bulwark/v1/ListPoliciesResponse.js';
import type { ListRepairsRequest as _bulwark_v1_ListRepairsRequest, ListRepairsRequest__Output as _bulwark_v1_ListRepairsRequest__Output } from '../../bulwark/v1/ListRepairsRequest.js';
import type { ListRepairsResponse as _bulwark_v1_ListRepairsResponse, ListRepairsResponse__Output as _bulwark_v1_ListRepairsResponse__Output } from '../../bulwark/v1/ListRepairsResponse.js';
import type { ListRpoRequest as _bulwark_v1_ListRpoRequest, ListRpoRequest__Output as _bulwark_v1_ListRpoRequest__Output } from '../../bulwark/v1/ListRpoRequest.js';
import type { ListRpoResponse as _bulwark_v1_ListRpoResponse, ListRpoResponse__Output as _bulwark_v1_ListRpoResponse__Output } from '../../bulwark/v1/ListRpoResponse.js';
import type { ListVmsRequest as _bulwark_v1_ListVmsRequest, ListVmsRequest__Output as _bulwark_v1_ListVmsRequest__Output } from '../../bulwark/v1/ListVmsRequest.js';
import type { ListVmsResponse as _bulwark_v1_ListVmsResponse, ListVmsResponse__Output as _bulwark_v1_ListVmsResponse__Output } from '../../bulwark/v1/ListVmsResponse.js';
import type { ListWorkersRequest as _bulwark_v1_ListWorkersRequest, ListWorkersRequest__Output as _bulwark_v1_ListWorkersRequest__Output } from '../../bulwark/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _bulwark_v1_ListWorkersResponse, ListWorkersResponse__Output as _bulwark_v1_ListWorkersResponse__Output } from '../../bulwark/v1/ListWorkersResponse.js';
import type { LockBackupRequest as _bulwark_v1_LockBackupRequest, LockBackupRequest__Output as _bulwark_v1_LockBackupRequest__Output } from '../../bulwark/v1/LockBackupRequest.js';
import type { LockBackupResponse as _bulwark_v1_LockBackupResponse, LockBackupResponse__Output as _bulwark_v1_LockBackupResponse__Output } from '../../bulwark/v1/LockBackupResponse.js';
import type { PolicyEntry as _bulwark_v1_PolicyEntry, PolicyEntry__Output as _bulwark_v1_PolicyEntry__Output } from '../../bulwark/v1/PolicyEntry.js';
import type { RevokeApiTokenRequest as _bulwark_v1_RevokeApiTokenRequest, RevokeApiTokenRequest__Output as _bulwark_v1_RevokeApiTokenRequest__Output } from '../../bulwark/v1/RevokeApiTokenRequest.js';
import type { StartBackupRequest as _bulwark_v1_StartBackupRequest, StartBackupRequest__Output as _bulwark_v1_StartBackupRequest__Output } from '../../bulwark/v1/StartBackupRequest.js';
import type { StartGcRequest as _bulwark_v1_StartGcRequest, StartGcRequest__Output as _bulwark_v1_StartGcRequest__Output } from '../../bulwark/v1/StartGcRequest.js';
import type { StartPruneRequest as _bulwark_v1_StartPruneRequest, StartPruneRequest__Output as _bulwark_v1_StartPruneRequest__Output } from '../../bulwark/v1/StartPruneRequest.js';
import type { StartRestoreRequest as _bulwark_v1_StartRestoreRequest, StartRestoreRequest__Output as _bulwark_v1_StartRestoreRequest__Output } from '../../bulwark/v1/StartRestoreRequest.js';
import type { StartSnapshotRequest as _bulwark_v1_StartSnapshotRequest, StartSnapshotRequest__Output as _bulwark_v1_StartSnapshotRequest__Output } from '../../bulwark/v1/StartSnapshotRequest.js';
import type { StartSyncRequest as _bulwark_v1_StartSyncRequest, StartSyncRequest__Output as _bulwark_v1_StartSyncRequest__Output } from '../../bulwark/v1/StartSyncRequest.js';
import type { StartVerifyRequest as _bulwark_v1_StartVerifyRequest, StartVerifyRequest__Output as _bulwark_v1_StartVerifyRequest__Output } from '../../bulwark/v1/StartVerifyRequest.js';
import type { UpdatePolicyRequest as _bulwark_v1_UpdatePolicyRequest, UpdatePolicyRequest__Output as _bulwark_v1_UpdatePolicyRequest__Output } from '../../bulwark/v1/UpdatePolicyRequest.js';
import type { WatchJobRequest as _bulwark_v1_WatchJobRequest, WatchJobRequest__Output as _bulwark_v1_WatchJobRequest__Output } from '../../bulwark/v1/WatchJobRequest.js';

export interface ControllerClient extends grpc.Client {
  AssignPolicy(argument: _bulwark_v1_AssignPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  AssignPolicy(argument: _bulwark_v1_AssignPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  AssignPolicy(argument: _bulwark_v1_AssignPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  AssignPolicy(argument: _bulwark_v1_AssignPolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  assignPolicy(argument: _bulwark_v1_AssignPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  assignPolicy(argument: _bulwark_v1_AssignPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  assignPolicy(argument: _bulwark_v1_AssignPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  assignPolicy(argument: _bulwark_v1_AssignPolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  
  CancelJob(argument: _bulwark_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _bulwark_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _bulwark_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  CancelJob(argument: _bulwark_v1_CancelJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _bulwark_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _bulwark_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _bulwark_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  cancelJob(argument: _bulwark_v1_CancelJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  CreateApiToken(argument: _bulwark_v1_CreateApiTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateApiToken(argument: _bulwark_v1_CreateApiTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateApiToken(argument: _bulwark_v1_CreateApiTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateApiToken(argument: _bulwark_v1_CreateApiTokenRequest, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  createApiToken(argument: _bulwark_v1_CreateApiTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  createApiToken(argument: _bulwark_v1_CreateApiTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  createApiToken(argument: _bulwark_v1_CreateApiTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  createApiToken(argument: _bulwark_v1_CreateApiTokenRequest, callback: grpc.requestCallback<_bulwark_v1_CreateApiTokenResponse__Output>): grpc.ClientUnaryCall;
  
  CreatePolicy(argument: _bulwark_v1_CreatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  CreatePolicy(argument: _bulwark_v1_CreatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  CreatePolicy(argument: _bulwark_v1_CreatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  CreatePolicy(argument: _bulwark_v1_CreatePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  createPolicy(argument: _bulwark_v1_CreatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  createPolicy(argument: _bulwark_v1_CreatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  createPolicy(argument: _bulwark_v1_CreatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  createPolicy(argument: _bulwark_v1_CreatePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  
  DeletePolicy(argument: _bulwark_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _bulwark_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _bulwark_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _bulwark_v1_DeletePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _bulwark_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _bulwark_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _bulwark_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _bulwark_v1_DeletePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  
  GetJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  GetPolicy(argument: _bulwark_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _bulwark_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _bulwark_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _bulwark_v1_GetPolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _bulwark_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _bulwark_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _bulwark_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _bulwark_v1_GetPolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  
  GetReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  GetReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  GetReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  GetReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  getReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  getReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  getReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  getReplicationStatus(argument: _bulwark_v1_GetReplicationStatusRequest, callback: grpc.requestCallback<_bulwark_v1_GetReplicationStatusResponse__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _bulwark_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _bulwark_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _bulwark_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _bulwark_v1_GetStatusRequest, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _bulwark_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _bulwark_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _bulwark_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _bulwark_v1_GetStatusRequest, callback: grpc.requestCallback<_bulwark_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  ImportCatalog(argument: _bulwark_v1_ImportCatalogRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  ImportCatalog(argument: _bulwark_v1_ImportCatalogRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  ImportCatalog(argument: _bulwark_v1_ImportCatalogRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  ImportCatalog(argument: _bulwark_v1_ImportCatalogRequest, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  importCatalog(argument: _bulwark_v1_ImportCatalogRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  importCatalog(argument: _bulwark_v1_ImportCatalogRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  importCatalog(argument: _bulwark_v1_ImportCatalogRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  importCatalog(argument: _bulwark_v1_ImportCatalogRequest, callback: grpc.requestCallback<_bulwark_v1_ImportCatalogResponse__Output>): grpc.ClientUnaryCall;
  
  ListAlerts(argument: _bulwark_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _bulwark_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _bulwark_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _bulwark_v1_ListAlertsRequest, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _bulwark_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _bulwark_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _bulwark_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _bulwark_v1_ListAlertsRequest, callback: grpc.requestCallback<_bulwark_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  
  ListApiTokens(argument: _bulwark_v1_ListApiTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  ListApiTokens(argument: _bulwark_v1_ListApiTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  ListApiTokens(argument: _bulwark_v1_ListApiTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  ListApiTokens(argument: _bulwark_v1_ListApiTokensRequest, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  listApiTokens(argument: _bulwark_v1_ListApiTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  listApiTokens(argument: _bulwark_v1_ListApiTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  listApiTokens(argument: _bulwark_v1_ListApiTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  listApiTokens(argument: _bulwark_v1_ListApiTokensRequest, callback: grpc.requestCallback<_bulwark_v1_ListApiTokensResponse__Output>): grpc.ClientUnaryCall;
  
  ListAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  listAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  listAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  listAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  listAuditEntries(argument: _bulwark_v1_ListAuditEntriesRequest, callback: grpc.requestCallback<_bulwark_v1_ListAuditEntriesResponse__Output>): grpc.ClientUnaryCall;
  
  ListCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  listCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  listCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  listCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  listCatalogBackups(argument: _bulwark_v1_ListCatalogBackupsRequest, callback: grpc.requestCallback<_bulwark_v1_ListCatalogBackupsResponse__Output>): grpc.ClientUnaryCall;
  
  ListJobs(argument: _bulwark_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _bulwark_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _bulwark_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _bulwark_v1_ListJobsRequest, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _bulwark_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _bulwark_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _bulwark_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _bulwark_v1_ListJobsRequest, callback: grpc.requestCallback<_bulwark_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  
  ListPolicies(argument: _bulwark_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _bulwark_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _bulwark_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _bulwark_v1_ListPoliciesRequest, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _bulwark_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _bulwark_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _bulwark_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _bulwark_v1_ListPoliciesRequest, callback: grpc.requestCallback<_bulwark_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  
  ListRpo(argument: _bulwark_v1_ListRpoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  ListRpo(argument: _bulwark_v1_ListRpoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  ListRpo(argument: _bulwark_v1_ListRpoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  ListRpo(argument: _bulwark_v1_ListRpoRequest, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  listRpo(argument: _bulwark_v1_ListRpoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  listRpo(argument: _bulwark_v1_ListRpoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  listRpo(argument: _bulwark_v1_ListRpoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  listRpo(argument: _bulwark_v1_ListRpoRequest, callback: grpc.requestCallback<_bulwark_v1_ListRpoResponse__Output>): grpc.ClientUnaryCall;
  
  ListVms(argument: _bulwark_v1_ListVmsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  ListVms(argument: _bulwark_v1_ListVmsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  ListVms(argument: _bulwark_v1_ListVmsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  ListVms(argument: _bulwark_v1_ListVmsRequest, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  listVms(argument: _bulwark_v1_ListVmsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  listVms(argument: _bulwark_v1_ListVmsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  listVms(argument: _bulwark_v1_ListVmsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  listVms(argument: _bulwark_v1_ListVmsRequest, callback: grpc.requestCallback<_bulwark_v1_ListVmsResponse__Output>): grpc.ClientUnaryCall;
  
  ListWorkers(argument: _bulwark_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _bulwark_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _bulwark_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _bulwark_v1_ListWorkersRequest, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _bulwark_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _bulwark_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _bulwark_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _bulwark_v1_ListWorkersRequest, callback: grpc.requestCallback<_bulwark_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  
  LockBackup(argument: _bulwark_v1_LockBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  LockBackup(argument: _bulwark_v1_LockBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  LockBackup(argument: _bulwark_v1_LockBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  LockBackup(argument: _bulwark_v1_LockBackupRequest, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  lockBackup(argument: _bulwark_v1_LockBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  lockBackup(argument: _bulwark_v1_LockBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  lockBackup(argument: _bulwark_v1_LockBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  lockBackup(argument: _bulwark_v1_LockBackupRequest, callback: grpc.requestCallback<_bulwark_v1_LockBackupResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  RevokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  RevokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  RevokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  revokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  revokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  revokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  revokeApiToken(argument: _bulwark_v1_RevokeApiTokenRequest, callback: grpc.requestCallback<_bulwark_v1_ApiToken__Output>): grpc.ClientUnaryCall;
  
  StartBackup(argument: _bulwark_v1_StartBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartBackup(argument: _bulwark_v1_StartBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartBackup(argument: _bulwark_v1_StartBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartBackup(argument: _bulwark_v1_StartBackupRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startBackup(argument: _bulwark_v1_StartBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startBackup(argument: _bulwark_v1_StartBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startBackup(argument: _bulwark_v1_StartBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startBackup(argument: _bulwark_v1_StartBackupRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartGc(argument: _bulwark_v1_StartGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartGc(argument: _bulwark_v1_StartGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartGc(argument: _bulwark_v1_StartGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartGc(argument: _bulwark_v1_StartGcRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startGc(argument: _bulwark_v1_StartGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startGc(argument: _bulwark_v1_StartGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startGc(argument: _bulwark_v1_StartGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startGc(argument: _bulwark_v1_StartGcRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartPrune(argument: _bulwark_v1_StartPruneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartPrune(argument: _bulwark_v1_StartPruneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartPrune(argument: _bulwark_v1_StartPruneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartPrune(argument: _bulwark_v1_StartPruneRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startPrune(argument: _bulwark_v1_StartPruneRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startPrune(argument: _bulwark_v1_StartPruneRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startPrune(argument: _bulwark_v1_StartPruneRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startPrune(argument: _bulwark_v1_StartPruneRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartRestore(argument: _bulwark_v1_StartRestoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartRestore(argument: _bulwark_v1_StartRestoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartRestore(argument: _bulwark_v1_StartRestoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartRestore(argument: _bulwark_v1_StartRestoreRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startRestore(argument: _bulwark_v1_StartRestoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startRestore(argument: _bulwark_v1_StartRestoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startRestore(argument: _bulwark_v1_StartRestoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startRestore(argument: _bulwark_v1_StartRestoreRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartSnapshot(argument: _bulwark_v1_StartSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSnapshot(argument: _bulwark_v1_StartSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSnapshot(argument: _bulwark_v1_StartSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSnapshot(argument: _bulwark_v1_StartSnapshotRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSnapshot(argument: _bulwark_v1_StartSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSnapshot(argument: _bulwark_v1_StartSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSnapshot(argument: _bulwark_v1_StartSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSnapshot(argument: _bulwark_v1_StartSnapshotRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartSync(argument: _bulwark_v1_StartSyncRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSync(argument: _bulwark_v1_StartSyncRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSync(argument: _bulwark_v1_StartSyncRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartSync(argument: _bulwark_v1_StartSyncRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSync(argument: _bulwark_v1_StartSyncRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSync(argument: _bulwark_v1_StartSyncRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSync(argument: _bulwark_v1_StartSyncRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startSync(argument: _bulwark_v1_StartSyncRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  StartVerify(argument: _bulwark_v1_StartVerifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartVerify(argument: _bulwark_v1_StartVerifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartVerify(argument: _bulwark_v1_StartVerifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  StartVerify(argument: _bulwark_v1_StartVerifyRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startVerify(argument: _bulwark_v1_StartVerifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startVerify(argument: _bulwark_v1_StartVerifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startVerify(argument: _bulwark_v1_StartVerifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  startVerify(argument: _bulwark_v1_StartVerifyRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
  UpdatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  UpdatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  UpdatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  UpdatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  updatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  updatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  updatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  updatePolicy(argument: _bulwark_v1_UpdatePolicyRequest, callback: grpc.requestCallback<_bulwark_v1_PolicyEntry__Output>): grpc.ClientUnaryCall;
  
  WatchJob(argument: _bulwark_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  WatchJob(argument: _bulwark_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  watchJob(argument: _bulwark_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  watchJob(argument: _bulwark_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  
}

export interface ControllerHandlers extends grpc.UntypedServiceImplementation {
  AssignPolicy: grpc.handleUnaryCall<_bulwark_v1_AssignPolicyRequest__Output, _bulwark_v1_PolicyEntry>;
  
  CancelJob: grpc.handleUnaryCall<_bulwark_v1_CancelJobRequest__Output, _bulwark_v1_Job>;
  
  CreateApiToken: grpc.handleUnaryCall<_bulwark_v1_CreateApiTokenRequest__Output, _bulwark_v1_CreateApiTokenResponse>;
  
  CreatePolicy: grpc.handleUnaryCall<_bulwark_v1_CreatePolicyRequest__Output, _bulwark_v1_PolicyEntry>;
  
  DeletePolicy: grpc.handleUnaryCall<_bulwark_v1_DeletePolicyRequest__Output, _bulwark_v1_DeletePolicyResponse>;
  
  GetJob: grpc.handleUnaryCall<_bulwark_v1_GetJobRequest__Output, _bulwark_v1_Job>;
  
  GetPolicy: grpc.handleUnaryCall<_bulwark_v1_GetPolicyRequest__Output, _bulwark_v1_PolicyEntry>;
  
  GetReplicationStatus: grpc.handleUnaryCall<_bulwark_v1_GetReplicationStatusRequest__Output, _bulwark_v1_GetReplicationStatusResponse>;
  
  GetStatus: grpc.handleUnaryCall<_bulwark_v1_GetStatusRequest__Output, _bulwark_v1_GetStatusResponse>;
  
  ImportCatalog: grpc.handleUnaryCall<_bulwark_v1_ImportCatalogRequest__Output, _bulwark_v1_ImportCatalogResponse>;
  
  ListAlerts: grpc.handleUnaryCall<_bulwark_v1_ListAlertsRequest__Output, _bulwark_v1_ListAlertsResponse>;
  
  ListApiTokens: grpc.handleUnaryCall<_bulwark_v1_ListApiTokensRequest__Output, _bulwark_v1_ListApiTokensResponse>;
  
  ListAuditEntries: grpc.handleUnaryCall<_bulwark_v1_ListAuditEntriesRequest__Output, _bulwark_v1_ListAuditEntriesResponse>;
  
  ListCatalogBackups: grpc.handleUnaryCall<_bulwark_v1_ListCatalogBackupsRequest__Output, _bulwark_v1_ListCatalogBackupsResponse>;
  
  ListJobs: grpc.handleUnaryCall<_bulwark_v1_ListJobsRequest__Output, _bulwark_v1_ListJobsResponse>;
  
  ListPolicies: grpc.handleUnaryCall<_bulwark_v1_ListPoliciesRequest__Output, _bulwark_v1_ListPoliciesResponse>;
  
  ListRepairs: grpc.handleUnaryCall<_bulwark_v1_ListRepairsRequest__Output, _bulwark_v1_ListRepairsResponse>;
  
  ListRpo: grpc.handleUnaryCall<_bulwark_v1_ListRpoRequest__Output, _bulwark_v1_ListRpoResponse>;
  
  ListVms: grpc.handleUnaryCall<_bulwark_v1_ListVmsRequest__Output, _bulwark_v1_ListVmsResponse>;
  
  ListWorkers: grpc.handleUnaryCall<_bulwark_v1_ListWorkersRequest__Output, _bulwark_v1_ListWorkersResponse>;
  
  LockBackup: grpc.handleUnaryCall<_bulwark_v1_LockBackupRequest__Output, _bulwark_v1_LockBackupResponse>;
  
  RevokeApiToken: grpc.handleUnaryCall<_bulwark_v1_RevokeApiTokenRequest__Output, _bulwark_v1_ApiToken>;
  
  StartBackup: grpc.handleUnaryCall<_bulwark_v1_StartBackupRequest__Output, _bulwark_v1_Job>;
  
  StartGc: grpc.handleUnaryCall<_bulwark_v1_StartGcRequest__Output, _bulwark_v1_Job>;
  
  StartPrune: grpc.handleUnaryCall<_bulwark_v1_StartPruneRequest__Output, _bulwark_v1_Job>;
  
  StartRestore: grpc.handleUnaryCall<_bulwark_v1_StartRestoreRequest__Output, _bulwark_v1_Job>;
  
  StartSnapshot: grpc.handleUnaryCall<_bulwark_v1_StartSnapshotRequest__Output, _bulwark_v1_Job>;
  
  StartSync: grpc.handleUnaryCall<_bulwark_v1_StartSyncRequest__Output, _bulwark_v1_Job>;
  
  StartVerify: grpc.handleUnaryCall<_bulwark_v1_StartVerifyRequest__Output, _bulwark_v1_Job>;
  
  UpdatePolicy: grpc.handleUnaryCall<_bulwark_v1_UpdatePolicyRequest__Output, _bulwark_v1_PolicyEntry>;
  
  WatchJob: grpc.handleServerStreamingCall<_bulwark_v1_WatchJobRequest__Output, _bulwark_v1_Job>;
  
}

export interface ControllerDefinition extends grpc.ServiceDefinition {
  AssignPolicy: MethodDefinition<_bulwark_v1_AssignPolicyRequest, _bulwark_v1_PolicyEntry, _bulwark_v1_AssignPolicyRequest__Output, _bulwark_v1_PolicyEntry__Output>
  CancelJob: MethodDefinition<_bulwark_v1_CancelJobRequest, _bulwark_v1_Job, _bulwark_v1_CancelJobRequest__Output, _bulwark_v1_Job__Output>
  CreateApiToken: MethodDefinition<_bulwark_v1_CreateApiTokenRequest, _bulwark_v1_CreateApiTokenResponse, _bulwark_v1_CreateApiTokenRequest__Output, _bulwark_v1_CreateApiTokenResponse__Output>
  CreatePolicy: MethodDefinition<_bulwark_v1_CreatePolicyRequest, _bulwark_v1_PolicyEntry, _bulwark_v1_CreatePolicyRequest__Output, _bulwark_v1_PolicyEntry__Output>
  DeletePolicy: MethodDefinition<_bulwark_v1_DeletePolicyRequest, _bulwark_v1_DeletePolicyResponse, _bulwark_v1_DeletePolicyRequest__Output, _bulwark_v1_DeletePolicyResponse__Output>
  GetJob: MethodDefinition<_bulwark_v1_GetJobRequest, _bulwark_v1_Job, _bulwark_v1_GetJobRequest__Output, _bulwark_v1_Job__Output>
  GetPolicy: MethodDefinition<_bulwark_v1_GetPolicyRequest, _bulwark_v1_PolicyEntry, _bulwark_v1_GetPolicyRequest__Output, _bulwark_v1_PolicyEntry__Output>
  GetReplicationStatus: MethodDefinition<_bulwark_v1_GetReplicationStatusRequest, _bulwark_v1_GetReplicationStatusResponse, _bulwark_v1_GetReplicationStatusRequest__Output, _bulwark_v1_GetReplicationStatusResponse__Output>
  GetStatus: MethodDefinition<_bulwark_v1_GetStatusRequest, _bulwark_v1_GetStatusResponse, _bulwark_v1_GetStatusRequest__Output, _bulwark_v1_GetStatusResponse__Output>
  ImportCatalog: MethodDefinition<_bulwark_v1_ImportCatalogRequest, _bulwark_v1_ImportCatalogResponse, _bulwark_v1_ImportCatalogRequest__Output, _bulwark_v1_ImportCatalogResponse__Output>
  ListAlerts: MethodDefinition<_bulwark_v1_ListAlertsRequest, _bulwark_v1_ListAlertsResponse, _bulwark_v1_ListAlertsRequest__Output, _bulwark_v1_ListAlertsResponse__Output>
  ListApiTokens: MethodDefinition<_bulwark_v1_ListApiTokensRequest, _bulwark_v1_ListApiTokensResponse, _bulwark_v1_ListApiTokensRequest__Output, _bulwark_v1_ListApiTokensResponse__Output>
  ListAuditEntries: MethodDefinition<_bulwark_v1_ListAuditEntriesRequest, _bulwark_v1_ListAuditEntriesResponse, _bulwark_v1_ListAuditEntriesRequest__Output, _bulwark_v1_ListAuditEntriesResponse__Output>
  ListCatalogBackups: MethodDefinition<_bulwark_v1_ListCatalogBackupsRequest, _bulwark_v1_ListCatalogBackupsResponse, _bulwark_v1_ListCatalogBackupsRequest__Output, _bulwark_v1_ListCatalogBackupsResponse__Output>
  ListJobs: MethodDefinition<_bulwark_v1_ListJobsRequest, _bulwark_v1_ListJobsResponse, _bulwark_v1_ListJobsRequest__Output, _bulwark_v1_ListJobsResponse__Output>
  ListPolicies: MethodDefinition<_bulwark_v1_ListPoliciesRequest, _bulwark_v1_ListPoliciesResponse, _bulwark_v1_ListPoliciesRequest__Output, _bulwark_v1_ListPoliciesResponse__Output>
  ListRepairs: MethodDefinition<_bulwark_v1_ListRepairsRequest, _bulwark_v1_ListRepairsResponse, _bulwark_v1_ListRepairsRequest__Output, _bulwark_v1_ListRepairsResponse__Output>
  ListRpo: MethodDefinition<_bulwark_v1_ListRpoRequest, _bulwark_v1_ListRpoResponse, _bulwark_v1_ListRpoRequest__Output, _bulwark_v1_ListRpoResponse__Output>
  ListVms: MethodDefinition<_bulwark_v1_ListVmsRequest, _bulwark_v1_ListVmsResponse, _bulwark_v1_ListVmsRequest__Output, _bulwark_v1_ListVmsResponse__Output>
  ListWorkers: MethodDefinition<_bulwark_v1_ListWorkersRequest, _bulwark_v1_ListWorkersResponse, _bulwark_v1_ListWorkersRequest__Output, _bulwark_v1_ListWorkersResponse__Output>
  LockBackup: MethodDefinition<_bulwark_v1_LockBackupRequest, _bulwark_v1_LockBackupResponse, _bulwark_v1_LockBackupRequest__Output, _bulwark_v1_LockBackupResponse__Output>
  RevokeApiToken: MethodDefinition<_bulwark_v1_RevokeApiTokenRequest, _bulwark_v1_ApiToken, _bulwark_v1_RevokeApiTokenRequest__Output, _bulwark_v1_ApiToken__Output>
  StartBackup: MethodDefinition<_bulwark_v1_StartBackupRequest, _bulwark_v1_Job, _bulwark_v1_StartBackupRequest__Output, _bulwark_v1_Job__Output>
  StartGc: MethodDefinition<_bulwark_v1_StartGcRequest, _bulwark_v1_Job, _bulwark_v1_StartGcRequest__Output, _bulwark_v1_Job__Output>
  StartPrune: MethodDefinition<_bulwark_v1_StartPruneRequest, _bulwark_v1_Job, _bulwark_v1_StartPruneRequest__Output, _bulwark_v1_Job__Output>
  StartRestore: MethodDefinition<_bulwark_v1_StartRestoreRequest, _bulwark_v1_Job, _bulwark_v1_StartRestoreRequest__Output, _bulwark_v1_Job__Output>
  StartSnapshot: MethodDefinition<_bulwark_v1_StartSnapshotRequest, _bulwark_v1_Job, _bulwark_v1_StartSnapshotRequest__Output, _bulwark_v1_Job__Output>
  StartSync: MethodDefinition<_bulwark_v1_StartSyncRequest, _bulwark_v1_Job, _bulwark_v1_StartSyncRequest__Output, _bulwark_v1_Job__Output>
  StartVerify: MethodDefinition<_bulwark_v1_StartVerifyRequest, _bulwark_v1_Job, _bulwark_v1_StartVerifyRequest__Output, _bulwark_v1_Job__Output>
  UpdatePolicy: MethodDefinition<_bulwark_v1_UpdatePolicyRequest, _bulwark_v1_PolicyEntry, _bulwark_v1_UpdatePolicyRequest__Output, _bulwark_v1_PolicyEntry__Output>
  WatchJob: MethodDefinition<_bulwark_v1_WatchJobRequest, _bulwark_v1_Job, _bulwark_v1_WatchJobRequest__Output, _bulwark_v1_Job__Output>
}
