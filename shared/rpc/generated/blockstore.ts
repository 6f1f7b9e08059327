import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortBackupRequest as _bulwark_v1_AbortBackupRequest, AbortBackupRequest__Output as _bulwark_v1_AbortBackupRequest__Output } from './bulwark/v1/AbortBackupRequest.js';
import type { AbortBackupResponse as _bulwark_v1_AbortBackupResponse, AbortBackupResponse__Output as _bulwark_v1_AbortBackupResponse__Output } from './bulwark/v1/AbortBackupResponse.js';
import type { BackupSummary as _bulwark_v1_BackupSummary, BackupSummary__Output as _bulwark_v1_BackupSummary__Output } from './bulwark/v1/BackupSummary.js';
import type { BeginBackupRequest as _bulwark_v1_BeginBackupRequest, BeginBackupRequest__Output as _bulwark_v1_BeginBackupRequest__Output } from './bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse as _bulwark_v1_BeginBackupResponse, BeginBackupResponse__Output as _bulwark_v1_BeginBackupResponse__Output } from './bulwark/v1/BeginBackupResponse.js';
import type { BlockStoreClient as _bulwark_v1_BlockStoreClient, BlockStoreDefinition as _bulwark_v1_BlockStoreDefinition } from './bulwark/v1/BlockStore.js';
import type { CommitBackupRequest as _bulwark_v1_CommitBackupRequest, CommitBackupRequest__Output as _bulwark_v1_CommitBackupRequest__Output } from './bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse as _bulwark_v1_CommitBackupResponse, CommitBackupResponse__Output as _bulwark_v1_CommitBackupResponse__Output } from './bulwark/v1/CommitBackupResponse.js';
import type { DatastoreInfo as _bulwark_v1_DatastoreInfo, DatastoreInfo__Output as _bulwark_v1_DatastoreInfo__Output } from './bulwark/v1/DatastoreInfo.js';
import type { DiskSpec as _bulwark_v1_DiskSpec, DiskSpec__Output as _bulwark_v1_DiskSpec__Output } from './bulwark/v1/DiskSpec.js';
import type { DiskSummary as _bulwark_v1_DiskSummary, DiskSummary__Output as _bulwark_v1_DiskSummary__Output } from './bulwark/v1/DiskSummary.js';
import type { FindMissingRequest as _bulwark_v1_FindMissingRequest, FindMissingRequest__Output as _bulwark_v1_FindMissingRequest__Output } from './bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse as _bulwark_v1_FindMissingResponse, FindMissingResponse__Output as _bulwark_v1_FindMissingResponse__Output } from './bulwark/v1/FindMissingResponse.js';
import type { GetChunksRequest as _bulwark_v1_GetChunksRequest, GetChunksRequest__Output as _bulwark_v1_GetChunksRequest__Output } from './bulwark/v1/GetChunksRequest.js';
import type { GetChunksResponse as _bulwark_v1_GetChunksResponse, GetChunksResponse__Output as _bulwark_v1_GetChunksResponse__Output } from './bulwark/v1/GetChunksResponse.js';
import type { GetDatastoreInfoRequest as _bulwark_v1_GetDatastoreInfoRequest, GetDatastoreInfoRequest__Output as _bulwark_v1_GetDatastoreInfoRequest__Output } from './bulwark/v1/GetDatastoreInfoRequest.js';
import type { GetIndexRequest as _bulwark_v1_GetIndexRequest, GetIndexRequest__Output as _bulwark_v1_GetIndexRequest__Output } from './bulwark/v1/GetIndexRequest.js';
import type { GetIndexResponse as _bulwark_v1_GetIndexResponse, GetIndexResponse__Output as _bulwark_v1_GetIndexResponse__Output } from './bulwark/v1/GetIndexResponse.js';
import type { GetManifestRequest as _bulwark_v1_GetManifestRequest, GetManifestRequest__Output as _bulwark_v1_GetManifestRequest__Output } from './bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse as _bulwark_v1_GetManifestResponse, GetManifestResponse__Output as _bulwark_v1_GetManifestResponse__Output } from './bulwark/v1/GetManifestResponse.js';
import type { ImportBackupRequest as _bulwark_v1_ImportBackupRequest, ImportBackupRequest__Output as _bulwark_v1_ImportBackupRequest__Output } from './bulwark/v1/ImportBackupRequest.js';
import type { ImportBackupResponse as _bulwark_v1_ImportBackupResponse, ImportBackupResponse__Output as _bulwark_v1_ImportBackupResponse__Output } from './bulwark/v1/ImportBackupResponse.js';
import type { ListBackupsRequest as _bulwark_v1_ListBackupsRequest, ListBackupsRequest__Output as _bulwark_v1_ListBackupsRequest__Output } from './bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse as _bulwark_v1_ListBackupsResponse, ListBackupsResponse__Output as _bulwark_v1_ListBackupsResponse__Output } from './bulwark/v1/ListBackupsResponse.js';
import type { PutChunksRequest as _bulwark_v1_PutChunksRequest, PutChunksRequest__Output as _bulwark_v1_PutChunksRequest__Output } from './bulwark/v1/PutChunksRequest.js';
import type { PutChunksResponse as _bulwark_v1_PutChunksResponse, PutChunksResponse__Output as _bulwark_v1_PutChunksResponse__Output } from './bulwark/v1/PutChunksResponse.js';
import type { PutIndexRequest as _bulwark_v1_PutIndexRequest, PutIndexRequest__Output as _bulwark_v1_PutIndexRequest__Output } from './bulwark/v1/PutIndexRequest.js';
import type { PutIndexResponse as _bulwark_v1_PutIndexResponse, PutIndexResponse__Output as _bulwark_v1_PutIndexResponse__Output } from './bulwark/v1/PutIndexResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  bulwark: {
    v1: {
      AbortBackupRequest: MessageTypeDefinition<_bulwark_v1_AbortBackupRequest, _bulwark_v1_AbortBackupRequest__Output>
      AbortBackupResponse: MessageTypeDefinition<_bulwark_v1_AbortBackupResponse, _bulwark_v1_AbortBackupResponse__Output>
      BackupSummary: MessageTypeDefinition<_bulwark_v1_BackupSummary, _bulwark_v1_BackupSummary__Output>
      BeginBackupRequest: MessageTypeDefinition<_bulwark_v1_BeginBackupRequest, _bulwark_v1_BeginBackupRequest__Output>
      BeginBackupResponse: MessageTypeDefinition<_bulwark_v1_BeginBackupResponse, _bulwark_v1_BeginBackupResponse__Output>
      BlockStore: SubtypeConstructor<typeof grpc.Client, _bulwark_v1_BlockStoreClient> & { service: _bulwark_v1_BlockStoreDefinition }
      CommitBackupRequest: MessageTypeDefinition<_bulwark_v1_CommitBackupRequest, _bulwark_v1_CommitBackupRequest__Output>
      CommitBackupResponse: MessageTypeDefinition<_bulwark_v1_CommitBackupResponse, _bulwark_v1_CommitBackupResponse__Output>
      DatastoreInfo: MessageTypeDefinition<_bulwark_v1_DatastoreInfo, _bulwark_v1_DatastoreInfo__Output>
      DiskSpec: MessageTypeDefinition<_bulwark_v1_DiskSpec, _bulwark_v1_DiskSpec__Output>
      DiskSummary: MessageTypeDefinition<_bulwark_v1_DiskSummary, _bulwark_v1_DiskSummary__Output>
      FindMissingRequest: MessageTypeDefinition<_bulwark_v1_FindMissingRequest, _bulwark_v1_FindMissingRequest__Output>
      FindMissingResponse: MessageTypeDefinition<_bulwark_v1_FindMissingResponse, _bulwark_v1_FindMissingResponse__Output>
      GetChunksRequest: MessageTypeDefinition<_bulwark_v1_GetChunksRequest, _bulwark_v1_GetChunksRequest__Output>
      GetChunksResponse: MessageTypeDefinition<_bulwark_v1_GetChunksResponse, _bulwark_v1_GetChunksResponse__Output>
      GetDatastoreInfoRequest: MessageTypeDefinition<_bulwark_v1_GetDatastoreInfoRequest, _bulwark_v1_GetDatastoreInfoRequest__Output>
      GetIndexRequest: MessageTypeDefinition<_bulwark_v1_GetIndexRequest, _bulwark_v1_GetIndexRequest__Output>
      GetIndexResponse: MessageTypeDefinition<_bulwark_v1_GetIndexResponse, _bulwark_v1_GetIndexResponse__Output>
      GetManifestRequest: MessageTypeDefinition<_bulwark_v1_GetManifestRequest, _bulwark_v1_GetManifestRequest__Output>
      GetManifestResponse: MessageTypeDefinition<_bulwark_v1_GetManifestResponse, _bulwark_v1_GetManifestResponse__Output>
      ImportBackupRequest: MessageTypeDefinition<_bulwark_v1_ImportBackupRequest, _bulwark_v1_ImportBackupRequest__Output>
      ImportBackupResponse: MessageTypeDefinition<_bulwark_v1_ImportBackupResponse, _bulwark_v1_ImportBackupResponse__Output>
      ListBackupsRequest: MessageTypeDefinition<_bulwark_v1_ListBackupsRequest, _bulwark_v1_ListBackupsRequest__Output>
      ListBackupsResponse: MessageTypeDefinition<_bulwark_v1_ListBackupsResponse, _bulwark_v1_ListBackupsResponse__Output>
      PutChunksRequest: MessageTypeDefinition<_bulwark_v1_PutChunksRequest, _bulwark_v1_PutChunksRequest__Output>
      PutChunksResponse: MessageTypeDefinition<_bulwark_v1_PutChunksResponse, _bulwark_v1_PutChunksResponse__Output>
      PutIndexRequest: MessageTypeDefinition<_bulwark_v1_PutIndexRequest, _bulwark_v1_PutIndexRequest__Output>
      PutIndexResponse: MessageTypeDefinition<_bulwark_v1_PutIndexResponse, _bulwark_v1_PutIndexResponse__Output>
    }
  }
}

