// Original file: proto/bulwark/v1/controller.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetJobRequest as _bulwark_v1_GetJobRequest, GetJobRequest__Output as _bulwark_v1_GetJobRequest__Output } from '../../bulwark/v1/GetJobRequest.js';
import type { GetReplicationStatusRequest as _bulwark_v1_GetReplicationStatusRequest, GetReplicationStatusRequest__Output as _bulwark_v1_GetReplicationStatusRequest__Output } from '../../bulwark/v1/GetReplicationStatusRequest.js';
import type { GetReplicationStatusResponse as _bulwark_v1_GetReplicationStatusResponse, GetReplicationStatusResponse__Output as _bulwark_v1_GetReplicationStatusResponse__Output } from '../../bulwark/v1/GetReplicationStatusResponse.js';
import type { GetStatusRequest as _bulwark_v1_GetStatusRequest, GetStatusRequest__Output as _bulwark_v1_GetStatusRequest__Output } from '../../bulwark/v1/GetStatusRequest.js';
import type { GetStatusResponse as _bulwark_v1_GetStatusResponse, GetStatusResponse__Output as _bulwark_v1_GetStatusResponse__Output } from '../../bulwark/v1/GetStatusResponse.js';
import type { ImportCatalogRequest as _bulwark_v1_ImportCatalogRequest, ImportCatalogRequest__Output as _bulwark_v1_ImportCatalogRequest__Output } from '../../bulwark/v1/ImportCatalogRequest.js';
import type { ImportCatalogResponse as _bulwark_v1_ImportCatalogResponse, ImportCatalogResponse__Output as _bulwark_v1_ImportCatalogResponse__Output } from '../../bulwark/v1/ImportCatalogResponse.js';
import type { Job as _bulwark_v1_Job, Job__Output as _bulwark_v1_Job__Output } from '../../bulwark/v1/Job.js';
import type { ListAlertsRequest as _bulwark_v1_ListAlertsRequest, ListAlertsRequest__Output as _bulwark_v1_ListAlertsRequest__Output } from '../../bulwark/v1/ListAlertsRequest.js';
import type { ListAlertsResponse as _bulwark_v1_ListAlertsResponse, ListAlertsResponse__Output as _bulwark_v1_ListAlertsResponse__Output } from '../../bulwark/v1/ListAlertsResponse.js';
import type { ListCatalogBackupsRequest as _bulwark_v1_ListCatalogBackupsRequest, ListCatalogBackupsRequest__Output as _bulwark_v1_ListCatalogBackupsRequest__Output } from '../../bulwark/v1/ListCatalogBackupsRequest.js';
import type { ListCatalogBackupsResponse as _bulwark_v1_ListCatalogBackupsResponse, ListCatalogBackupsResponse__Output as _bulwark_v1_ListCatalogBackupsResponse__Output } from '../../bulwark/v1/ListCatalogBackupsResponse.js';
import type { ListJobsRequest as _bulwark_v1_ListJobsRequest, ListJobsRequest__Output as _bulwark_v1_ListJobsRequest__Output } from '../../bulwark/v1/ListJobsRequest.js';
import type { ListJobsResponse as _bulwark_v1_ListJobsResponse, ListJobsResponse__Output as _bulwark_v1_ListJobsResponse__Output } from '../../bulwark/v1/ListJobsResponse.js';
import type { ListRepairsRequest as _bulwark_v1_ListRepairsRequest, ListRepairsRequest__Output as _bulwark_v1_ListRepairsRequest__Output } from '../../bulwark/v1/ListRepairsRequest.js';
import type { ListRepairsResponse as _bulwark_v1_ListRepairsResponse, ListRepairsResponse__Output as _bulwark_v1_ListRepairsResponse__Output } from '../../bulwark/v1/ListRepairsResponse.js';
import type { ListVmsRequest as _bulwark_v1_ListVmsRequest, ListVmsRequest__Output as _bulwark_v1_ListVmsRequest__Output } from '../../bulwark/v1/ListVmsRequest.js';
import type { ListVmsResponse as _bulwark_v1_ListVmsResponse, ListVmsResponse__Output as _bulwark_v1_ListVmsResponse__Output } from '../../bulwark/v1/ListVmsResponse.js';
import type { ListWorkersRequest as _bulwark_v1_ListWorkersRequest, ListWorkersRequest__Output as _bulwark_v1_ListWorkersRequest__Output } from '../../bulwark/v1/ListWorkersRequest.js';
import type { ListWorkersResponse as _bulwark_v1_ListWorkersResponse, ListWorkersResponse__Output as _bulwark_v1_ListWorkersResponse__Output } from '../../bulwark/v1/ListWorkersResponse.js';
import type { LockBackupRequest as _bulwark_v1_LockBackupRequest, LockBackupRequest__Output as _bulwark_v1_LockBackupRequest__Output } from '../../bulwark/v1/LockBackupRequest.js';
import type { LockBackupResponse as _bulwark_v1_LockBackupResponse, LockBackupResponse__Output as _bulwark_v1_LockBackupResponse__Output } from '../../bulwark/v1/LockBackupResponse.js';
import type { StartBackupRequest as _bulwark_v1_StartBackupRequest, StartBackupRequest__Output as _bulwark_v1_StartBackupRequest__Output } from '../../bulwark/v1/StartBackupRequest.js';
import type { StartGcRequest as _bulwark_v1_StartGcRequest, StartGcRequest__Output as _bulwark_v1_StartGcRequest__Output } from '../../bulwark/v1/StartGcRequest.js';
import type { StartPruneRequest as _bulwark_v1_StartPruneRequest, StartPruneRequest__Output as _bulwark_v1_StartPruneRequest__Output } from '../../bulwark/v1/StartPruneRequest.js';
import type { StartRestoreRequest as _bulwark_v1_StartRestoreRequest, StartRestoreRequest__Output as _bulwark_v1_StartRestoreRequest__Output } from '../../bulwark/v1/StartRestoreRequest.js';
import type { StartSnapshotRequest as _bulwark_v1_StartSnapshotRequest, StartSnapshotRequest__Output as _bulwark_v1_StartSnapshotRequest__Output } from '../../bulwark/v1/StartSnapshotRequest.js';
import type { StartSyncRequest as _bulwark_v1_StartSyncRequest, StartSyncRequest__Output as _bulwark_v1_StartSyncRequest__Output } from '../../bulwark/v1/StartSyncRequest.js';
import type { StartVerifyRequest as _bulwark_v1_StartVerifyRequest, StartVerifyRequest__Output as _bulwark_v1_StartVerifyRequest__Output } from '../../bulwark/v1/StartVerifyRequest.js';
import type { WatchJobRequest as _bulwark_v1_WatchJobRequest, WatchJobRequest__Output as _bulwark_v1_WatchJobRequest__Output } from '../../bulwark/v1/WatchJobRequest.js';

export interface ControllerClient extends grpc.Client {
  GetJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _bulwark_v1_GetJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  getJob(argument: _bulwark_v1_GetJobRequest, callback: grpc.requestCallback<_bulwark_v1_Job__Output>): grpc.ClientUnaryCall;
  
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
  
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  ListRepairs(argument: _bulwark_v1_ListRepairsRequest, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  listRepairs(argument: _bulwark_v1_ListRepairsRequest, callback: grpc.requestCallback<_bulwark_v1_ListRepairsResponse__Output>): grpc.ClientUnaryCall;
  
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
  
  WatchJob(argument: _bulwark_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  WatchJob(argument: _bulwark_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  watchJob(argument: _bulwark_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  watchJob(argument: _bulwark_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_Job__Output>;
  
}

export interface ControllerHandlers extends grpc.UntypedServiceImplementation {
  GetJob: grpc.handleUnaryCall<_bulwark_v1_GetJobRequest__Output, _bulwark_v1_Job>;
  
  GetReplicationStatus: grpc.handleUnaryCall<_bulwark_v1_GetReplicationStatusRequest__Output, _bulwark_v1_GetReplicationStatusResponse>;
  
  GetStatus: grpc.handleUnaryCall<_bulwark_v1_GetStatusRequest__Output, _bulwark_v1_GetStatusResponse>;
  
  ImportCatalog: grpc.handleUnaryCall<_bulwark_v1_ImportCatalogRequest__Output, _bulwark_v1_ImportCatalogResponse>;
  
  ListAlerts: grpc.handleUnaryCall<_bulwark_v1_ListAlertsRequest__Output, _bulwark_v1_ListAlertsResponse>;
  
  ListCatalogBackups: grpc.handleUnaryCall<_bulwark_v1_ListCatalogBackupsRequest__Output, _bulwark_v1_ListCatalogBackupsResponse>;
  
  ListJobs: grpc.handleUnaryCall<_bulwark_v1_ListJobsRequest__Output, _bulwark_v1_ListJobsResponse>;
  
  ListRepairs: grpc.handleUnaryCall<_bulwark_v1_ListRepairsRequest__Output, _bulwark_v1_ListRepairsResponse>;
  
  ListVms: grpc.handleUnaryCall<_bulwark_v1_ListVmsRequest__Output, _bulwark_v1_ListVmsResponse>;
  
  ListWorkers: grpc.handleUnaryCall<_bulwark_v1_ListWorkersRequest__Output, _bulwark_v1_ListWorkersResponse>;
  
  LockBackup: grpc.handleUnaryCall<_bulwark_v1_LockBackupRequest__Output, _bulwark_v1_LockBackupResponse>;
  
  StartBackup: grpc.handleUnaryCall<_bulwark_v1_StartBackupRequest__Output, _bulwark_v1_Job>;
  
  StartGc: grpc.handleUnaryCall<_bulwark_v1_StartGcRequest__Output, _bulwark_v1_Job>;
  
  StartPrune: grpc.handleUnaryCall<_bulwark_v1_StartPruneRequest__Output, _bulwark_v1_Job>;
  
  StartRestore: grpc.handleUnaryCall<_bulwark_v1_StartRestoreRequest__Output, _bulwark_v1_Job>;
  
  StartSnapshot: grpc.handleUnaryCall<_bulwark_v1_StartSnapshotRequest__Output, _bulwark_v1_Job>;
  
  StartSync: grpc.handleUnaryCall<_bulwark_v1_StartSyncRequest__Output, _bulwark_v1_Job>;
  
  StartVerify: grpc.handleUnaryCall<_bulwark_v1_StartVerifyRequest__Output, _bulwark_v1_Job>;
  
  WatchJob: grpc.handleServerStreamingCall<_bulwark_v1_WatchJobRequest__Output, _bulwark_v1_Job>;
  
}

export interface ControllerDefinition extends grpc.ServiceDefinition {
  GetJob: MethodDefinition<_bulwark_v1_GetJobRequest, _bulwark_v1_Job, _bulwark_v1_GetJobRequest__Output, _bulwark_v1_Job__Output>
  GetReplicationStatus: MethodDefinition<_bulwark_v1_GetReplicationStatusRequest, _bulwark_v1_GetReplicationStatusResponse, _bulwark_v1_GetReplicationStatusRequest__Output, _bulwark_v1_GetReplicationStatusResponse__Output>
  GetStatus: MethodDefinition<_bulwark_v1_GetStatusRequest, _bulwark_v1_GetStatusResponse, _bulwark_v1_GetStatusRequest__Output, _bulwark_v1_GetStatusResponse__Output>
  ImportCatalog: MethodDefinition<_bulwark_v1_ImportCatalogRequest, _bulwark_v1_ImportCatalogResponse, _bulwark_v1_ImportCatalogRequest__Output, _bulwark_v1_ImportCatalogResponse__Output>
  ListAlerts: MethodDefinition<_bulwark_v1_ListAlertsRequest, _bulwark_v1_ListAlertsResponse, _bulwark_v1_ListAlertsRequest__Output, _bulwark_v1_ListAlertsResponse__Output>
  ListCatalogBackups: MethodDefinition<_bulwark_v1_ListCatalogBackupsRequest, _bulwark_v1_ListCatalogBackupsResponse, _bulwark_v1_ListCatalogBackupsRequest__Output, _bulwark_v1_ListCatalogBackupsResponse__Output>
  ListJobs: MethodDefinition<_bulwark_v1_ListJobsRequest, _bulwark_v1_ListJobsResponse, _bulwark_v1_ListJobsRequest__Output, _bulwark_v1_ListJobsResponse__Output>
  ListRepairs: MethodDefinition<_bulwark_v1_ListRepairsRequest, _bulwark_v1_ListRepairsResponse, _bulwark_v1_ListRepairsRequest__Output, _bulwark_v1_ListRepairsResponse__Output>
  ListVms: MethodDefinition<_bulwark_v1_ListVmsRequest, _bulwark_v1_ListVmsResponse, _bulwark_v1_ListVmsRequest__Output, _bulwark_v1_ListVmsResponse__Output>
  ListWorkers: MethodDefinition<_bulwark_v1_ListWorkersRequest, _bulwark_v1_ListWorkersResponse, _bulwark_v1_ListWorkersRequest__Output, _bulwark_v1_ListWorkersResponse__Output>
  LockBackup: MethodDefinition<_bulwark_v1_LockBackupRequest, _bulwark_v1_LockBackupResponse, _bulwark_v1_LockBackupRequest__Output, _bulwark_v1_LockBackupResponse__Output>
  StartBackup: MethodDefinition<_bulwark_v1_StartBackupRequest, _bulwark_v1_Job, _bulwark_v1_StartBackupRequest__Output, _bulwark_v1_Job__Output>
  StartGc: MethodDefinition<_bulwark_v1_StartGcRequest, _bulwark_v1_Job, _bulwark_v1_StartGcRequest__Output, _bulwark_v1_Job__Output>
  StartPrune: MethodDefinition<_bulwark_v1_StartPruneRequest, _bulwark_v1_Job, _bulwark_v1_StartPruneRequest__Output, _bulwark_v1_Job__Output>
  StartRestore: MethodDefinition<_bulwark_v1_StartRestoreRequest, _bulwark_v1_Job, _bulwark_v1_StartRestoreRequest__Output, _bulwark_v1_Job__Output>
  StartSnapshot: MethodDefinition<_bulwark_v1_StartSnapshotRequest, _bulwark_v1_Job, _bulwark_v1_StartSnapshotRequest__Output, _bulwark_v1_Job__Output>
  StartSync: MethodDefinition<_bulwark_v1_StartSyncRequest, _bulwark_v1_Job, _bulwark_v1_StartSyncRequest__Output, _bulwark_v1_Job__Output>
  StartVerify: MethodDefinition<_bulwark_v1_StartVerifyRequest, _bulwark_v1_Job, _bulwark_v1_StartVerifyRequest__Output, _bulwark_v1_Job__Output>
  WatchJob: MethodDefinition<_bulwark_v1_WatchJobRequest, _bulwark_v1_Job, _bulwark_v1_WatchJobRequest__Output, _bulwark_v1_Job__Output>
}
