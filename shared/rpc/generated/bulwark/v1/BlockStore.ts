// Original file: proto/bulwark/v1/blockstore.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AbortBackupRequest as _bulwark_v1_AbortBackupRequest, AbortBackupRequest__Output as _bulwark_v1_AbortBackupRequest__Output } from '../../bulwark/v1/AbortBackupRequest.js';
import type { AbortBackupResponse as _bulwark_v1_AbortBackupResponse, AbortBackupResponse__Output as _bulwark_v1_AbortBackupResponse__Output } from '../../bulwark/v1/AbortBackupResponse.js';
import type { BeginBackupRequest as _bulwark_v1_BeginBackupRequest, BeginBackupRequest__Output as _bulwark_v1_BeginBackupRequest__Output } from '../../bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse as _bulwark_v1_BeginBackupResponse, BeginBackupResponse__Output as _bulwark_v1_BeginBackupResponse__Output } from '../../bulwark/v1/BeginBackupResponse.js';
import type { CommitBackupRequest as _bulwark_v1_CommitBackupRequest, CommitBackupRequest__Output as _bulwark_v1_CommitBackupRequest__Output } from '../../bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse as _bulwark_v1_CommitBackupResponse, CommitBackupResponse__Output as _bulwark_v1_CommitBackupResponse__Output } from '../../bulwark/v1/CommitBackupResponse.js';
import type { DatastoreInfo as _bulwark_v1_DatastoreInfo, DatastoreInfo__Output as _bulwark_v1_DatastoreInfo__Output } from '../../bulwark/v1/DatastoreInfo.js';
import type { FindMissingRequest as _bulwark_v1_FindMissingRequest, FindMissingRequest__Output as _bulwark_v1_FindMissingRequest__Output } from '../../bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse as _bulwark_v1_FindMissingResponse, FindMissingResponse__Output as _bulwark_v1_FindMissingResponse__Output } from '../../bulwark/v1/FindMissingResponse.js';
import type { GetChunksRequest as _bulwark_v1_GetChunksRequest, GetChunksRequest__Output as _bulwark_v1_GetChunksRequest__Output } from '../../bulwark/v1/GetChunksRequest.js';
import type { GetChunksResponse as _bulwark_v1_GetChunksResponse, GetChunksResponse__Output as _bulwark_v1_GetChunksResponse__Output } from '../../bulwark/v1/GetChunksResponse.js';
import type { GetDatastoreInfoRequest as _bulwark_v1_GetDatastoreInfoRequest, GetDatastoreInfoRequest__Output as _bulwark_v1_GetDatastoreInfoRequest__Output } from '../../bulwark/v1/GetDatastoreInfoRequest.js';
import type { GetIndexRequest as _bulwark_v1_GetIndexRequest, GetIndexRequest__Output as _bulwark_v1_GetIndexRequest__Output } from '../../bulwark/v1/GetIndexRequest.js';
import type { GetIndexResponse as _bulwark_v1_GetIndexResponse, GetIndexResponse__Output as _bulwark_v1_GetIndexResponse__Output } from '../../bulwark/v1/GetIndexResponse.js';
import type { GetManifestRequest as _bulwark_v1_GetManifestRequest, GetManifestRequest__Output as _bulwark_v1_GetManifestRequest__Output } from '../../bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse as _bulwark_v1_GetManifestResponse, GetManifestResponse__Output as _bulwark_v1_GetManifestResponse__Output } from '../../bulwark/v1/GetManifestResponse.js';
import type { ImportBackupRequest as _bulwark_v1_ImportBackupRequest, ImportBackupRequest__Output as _bulwark_v1_ImportBackupRequest__Output } from '../../bulwark/v1/ImportBackupRequest.js';
import type { ImportBackupResponse as _bulwark_v1_ImportBackupResponse, ImportBackupResponse__Output as _bulwark_v1_ImportBackupResponse__Output } from '../../bulwark/v1/ImportBackupResponse.js';
import type { ListBackupsRequest as _bulwark_v1_ListBackupsRequest, ListBackupsRequest__Output as _bulwark_v1_ListBackupsRequest__Output } from '../../bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse as _bulwark_v1_ListBackupsResponse, ListBackupsResponse__Output as _bulwark_v1_ListBackupsResponse__Output } from '../../bulwark/v1/ListBackupsResponse.js';
import type { PutChunksRequest as _bulwark_v1_PutChunksRequest, PutChunksRequest__Output as _bulwark_v1_PutChunksRequest__Output } from '../../bulwark/v1/PutChunksRequest.js';
import type { PutChunksResponse as _bulwark_v1_PutChunksResponse, PutChunksResponse__Output as _bulwark_v1_PutChunksResponse__Output } from '../../bulwark/v1/PutChunksResponse.js';
import type { PutIndexRequest as _bulwark_v1_PutIndexRequest, PutIndexRequest__Output as _bulwark_v1_PutIndexRequest__Output } from '../../bulwark/v1/PutIndexRequest.js';
import type { PutIndexResponse as _bulwark_v1_PutIndexResponse, PutIndexResponse__Output as _bulwark_v1_PutIndexResponse__Output } from '../../bulwark/v1/PutIndexResponse.js';

export interface BlockStoreClient extends grpc.Client {
  AbortBackup(argument: _bulwark_v1_AbortBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  AbortBackup(argument: _bulwark_v1_AbortBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  AbortBackup(argument: _bulwark_v1_AbortBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  AbortBackup(argument: _bulwark_v1_AbortBackupRequest, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  abortBackup(argument: _bulwark_v1_AbortBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  abortBackup(argument: _bulwark_v1_AbortBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  abortBackup(argument: _bulwark_v1_AbortBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  abortBackup(argument: _bulwark_v1_AbortBackupRequest, callback: grpc.requestCallback<_bulwark_v1_AbortBackupResponse__Output>): grpc.ClientUnaryCall;
  
  BeginBackup(argument: _bulwark_v1_BeginBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  BeginBackup(argument: _bulwark_v1_BeginBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  BeginBackup(argument: _bulwark_v1_BeginBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  BeginBackup(argument: _bulwark_v1_BeginBackupRequest, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  beginBackup(argument: _bulwark_v1_BeginBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  beginBackup(argument: _bulwark_v1_BeginBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  beginBackup(argument: _bulwark_v1_BeginBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  beginBackup(argument: _bulwark_v1_BeginBackupRequest, callback: grpc.requestCallback<_bulwark_v1_BeginBackupResponse__Output>): grpc.ClientUnaryCall;
  
  CommitBackup(argument: _bulwark_v1_CommitBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  CommitBackup(argument: _bulwark_v1_CommitBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  CommitBackup(argument: _bulwark_v1_CommitBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  CommitBackup(argument: _bulwark_v1_CommitBackupRequest, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  commitBackup(argument: _bulwark_v1_CommitBackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  commitBackup(argument: _bulwark_v1_CommitBackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  commitBackup(argument: _bulwark_v1_CommitBackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  commitBackup(argument: _bulwark_v1_CommitBackupRequest, callback: grpc.requestCallback<_bulwark_v1_CommitBackupResponse__Output>): grpc.ClientUnaryCall;
  
  FindMissing(argument: _bulwark_v1_FindMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _bulwark_v1_FindMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _bulwark_v1_FindMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  FindMissing(argument: _bulwark_v1_FindMissingRequest, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _bulwark_v1_FindMissingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _bulwark_v1_FindMissingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _bulwark_v1_FindMissingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  findMissing(argument: _bulwark_v1_FindMissingRequest, callback: grpc.requestCallback<_bulwark_v1_FindMissingResponse__Output>): grpc.ClientUnaryCall;
  
  GetChunks(argument: _bulwark_v1_GetChunksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetChunksResponse__Output>;
  GetChunks(argument: _bulwark_v1_GetChunksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetChunksResponse__Output>;
  getChunks(argument: _bulwark_v1_GetChunksRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetChunksResponse__Output>;
  getChunks(argument: _bulwark_v1_GetChunksRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetChunksResponse__Output>;
  
  GetDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  GetDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  GetDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  GetDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  getDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  getDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  getDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  getDatastoreInfo(argument: _bulwark_v1_GetDatastoreInfoRequest, callback: grpc.requestCallback<_bulwark_v1_DatastoreInfo__Output>): grpc.ClientUnaryCall;
  
  GetIndex(argument: _bulwark_v1_GetIndexRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetIndexResponse__Output>;
  GetIndex(argument: _bulwark_v1_GetIndexRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetIndexResponse__Output>;
  getIndex(argument: _bulwark_v1_GetIndexRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetIndexResponse__Output>;
  getIndex(argument: _bulwark_v1_GetIndexRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_bulwark_v1_GetIndexResponse__Output>;
  
  GetManifest(argument: _bulwark_v1_GetManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _bulwark_v1_GetManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _bulwark_v1_GetManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  GetManifest(argument: _bulwark_v1_GetManifestRequest, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _bulwark_v1_GetManifestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _bulwark_v1_GetManifestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _bulwark_v1_GetManifestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  getManifest(argument: _bulwark_v1_GetManifestRequest, callback: grpc.requestCallback<_bulwark_v1_GetManifestResponse__Output>): grpc.ClientUnaryCall;
  
  ImportBackup(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  ImportBackup(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  ImportBackup(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  ImportBackup(callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  importBackup(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  importBackup(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  importBackup(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  importBackup(callback: grpc.requestCallback<_bulwark_v1_ImportBackupResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_ImportBackupRequest>;
  
  ListBackups(argument: _bulwark_v1_ListBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _bulwark_v1_ListBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _bulwark_v1_ListBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  ListBackups(argument: _bulwark_v1_ListBackupsRequest, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _bulwark_v1_ListBackupsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _bulwark_v1_ListBackupsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _bulwark_v1_ListBackupsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  listBackups(argument: _bulwark_v1_ListBackupsRequest, callback: grpc.requestCallback<_bulwark_v1_ListBackupsResponse__Output>): grpc.ClientUnaryCall;
  
  PutChunks(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  PutChunks(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  PutChunks(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  PutChunks(callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  putChunks(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  putChunks(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  putChunks(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  putChunks(callback: grpc.requestCallback<_bulwark_v1_PutChunksResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutChunksRequest>;
  
  PutIndex(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  PutIndex(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  PutIndex(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  PutIndex(callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  putIndex(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  putIndex(metadata: grpc.Metadata, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  putIndex(options: grpc.CallOptions, callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  putIndex(callback: grpc.requestCallback<_bulwark_v1_PutIndexResponse__Output>): grpc.ClientWritableStream<_bulwark_v1_PutIndexRequest>;
  
}

export interface BlockStoreHandlers extends grpc.UntypedServiceImplementation {
  AbortBackup: grpc.handleUnaryCall<_bulwark_v1_AbortBackupRequest__Output, _bulwark_v1_AbortBackupResponse>;
  
  BeginBackup: grpc.handleUnaryCall<_bulwark_v1_BeginBackupRequest__Output, _bulwark_v1_BeginBackupResponse>;
  
  CommitBackup: grpc.handleUnaryCall<_bulwark_v1_CommitBackupRequest__Output, _bulwark_v1_CommitBackupResponse>;
  
  FindMissing: grpc.handleUnaryCall<_bulwark_v1_FindMissingRequest__Output, _bulwark_v1_FindMissingResponse>;
  
  GetChunks: grpc.handleServerStreamingCall<_bulwark_v1_GetChunksRequest__Output, _bulwark_v1_GetChunksResponse>;
  
  GetDatastoreInfo: grpc.handleUnaryCall<_bulwark_v1_GetDatastoreInfoRequest__Output, _bulwark_v1_DatastoreInfo>;
  
  GetIndex: grpc.handleServerStreamingCall<_bulwark_v1_GetIndexRequest__Output, _bulwark_v1_GetIndexResponse>;
  
  GetManifest: grpc.handleUnaryCall<_bulwark_v1_GetManifestRequest__Output, _bulwark_v1_GetManifestResponse>;
  
  ImportBackup: grpc.handleClientStreamingCall<_bulwark_v1_ImportBackupRequest__Output, _bulwark_v1_ImportBackupResponse>;
  
  ListBackups: grpc.handleUnaryCall<_bulwark_v1_ListBackupsRequest__Output, _bulwark_v1_ListBackupsResponse>;
  
  PutChunks: grpc.handleClientStreamingCall<_bulwark_v1_PutChunksRequest__Output, _bulwark_v1_PutChunksResponse>;
  
  PutIndex: grpc.handleClientStreamingCall<_bulwark_v1_PutIndexRequest__Output, _bulwark_v1_PutIndexResponse>;
  
}

export interface BlockStoreDefinition extends grpc.ServiceDefinition {
  AbortBackup: MethodDefinition<_bulwark_v1_AbortBackupRequest, _bulwark_v1_AbortBackupResponse, _bulwark_v1_AbortBackupRequest__Output, _bulwark_v1_AbortBackupResponse__Output>
  BeginBackup: MethodDefinition<_bulwark_v1_BeginBackupRequest, _bulwark_v1_BeginBackupResponse, _bulwark_v1_BeginBackupRequest__Output, _bulwark_v1_BeginBackupResponse__Output>
  CommitBackup: MethodDefinition<_bulwark_v1_CommitBackupRequest, _bulwark_v1_CommitBackupResponse, _bulwark_v1_CommitBackupRequest__Output, _bulwark_v1_CommitBackupResponse__Output>
  FindMissing: MethodDefinition<_bulwark_v1_FindMissingRequest, _bulwark_v1_FindMissingResponse, _bulwark_v1_FindMissingRequest__Output, _bulwark_v1_FindMissingResponse__Output>
  GetChunks: MethodDefinition<_bulwark_v1_GetChunksRequest, _bulwark_v1_GetChunksResponse, _bulwark_v1_GetChunksRequest__Output, _bulwark_v1_GetChunksResponse__Output>
  GetDatastoreInfo: MethodDefinition<_bulwark_v1_GetDatastoreInfoRequest, _bulwark_v1_DatastoreInfo, _bulwark_v1_GetDatastoreInfoRequest__Output, _bulwark_v1_DatastoreInfo__Output>
  GetIndex: MethodDefinition<_bulwark_v1_GetIndexRequest, _bulwark_v1_GetIndexResponse, _bulwark_v1_GetIndexRequest__Output, _bulwark_v1_GetIndexResponse__Output>
  GetManifest: MethodDefinition<_bulwark_v1_GetManifestRequest, _bulwark_v1_GetManifestResponse, _bulwark_v1_GetManifestRequest__Output, _bulwark_v1_GetManifestResponse__Output>
  ImportBackup: MethodDefinition<_bulwark_v1_ImportBackupRequest, _bulwark_v1_ImportBackupResponse, _bulwark_v1_ImportBackupRequest__Output, _bulwark_v1_ImportBackupResponse__Output>
  ListBackups: MethodDefinition<_bulwark_v1_ListBackupsRequest, _bulwark_v1_ListBackupsResponse, _bulwark_v1_ListBackupsRequest__Output, _bulwark_v1_ListBackupsResponse__Output>
  PutChunks: MethodDefinition<_bulwark_v1_PutChunksRequest, _bulwark_v1_PutChunksResponse, _bulwark_v1_PutChunksRequest__Output, _bulwark_v1_PutChunksResponse__Output>
  PutIndex: MethodDefinition<_bulwark_v1_PutIndexRequest, _bulwark_v1_PutIndexResponse, _bulwark_v1_PutIndexRequest__Output, _bulwark_v1_PutIndexResponse__Output>
}
