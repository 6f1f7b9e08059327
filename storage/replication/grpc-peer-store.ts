import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { GetManifestRequest } from '../../shared/rpc/generated/bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetManifestResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import { createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import type { PeerBackup, PeerChunk, PeerInfo, PeerStore } from './peer-store.js';

/** A peer storage over its BlockStore gRPC service. */
export class GrpcPeerStore implements PeerStore {
  private readonly client: BlockStoreClient;
  private readonly target: string;

  constructor(
    readonly site: string,
    readonly address: string,
  ) {
    this.client = createBlockStoreClient(address);
    this.target = `storage ${site} (${address})`;
  }

  async info(): Promise<PeerInfo> {
    const res = await callUnary<object, DatastoreInfo__Output>(this.target, this.client.getDatastoreInfo.bind(this.client), {});
    return {
      datastoreId: res.datastoreId,
      chunkSizeBytes: res.chunkSizeBytes,
      keyFingerprint: res.keyFingerprint === '' ? null : res.keyFingerprint,
    };
  }

  async listBackups(): Promise<PeerBackup[]> {
    const res = await callUnary<ListBackupsRequest, ListBackupsResponse__Output>(this.target, this.client.listBackups.bind(this.client), { vm: '' });
    return res.backups.map((b) => ({ backupId: b.backupId, vm: b.vm }));
  }

  async getManifest(backupId: string): Promise<Buffer> {
    const res = await callUnary<GetManifestRequest, GetManifestResponse__Output>(this.target, this.client.getManifest.bind(this.client), { backupId });
    return res.manifest;
  }

  async getIndex(backupId: string, disk: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of readServerStream(this.target, this.client.getIndex({ backupId, disk }))) parts.push(part.data);
    return Buffer.concat(parts);
  }

  async *getChunks(digests: readonly Buffer[]): AsyncIterable<PeerChunk> {
    for await (const msg of readServerStream(this.target, this.client.getChunks({ digests: [...digests] }))) {
      yield { digest: msg.digest, blob: msg.blob };
    }
  }

  close(): void {
    this.client.close();
  }
}
