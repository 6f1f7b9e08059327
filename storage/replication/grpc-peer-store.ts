import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { GetManifestRequest } from '../../shared/rpc/generated/bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetManifestResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import { createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import type { PeerBackup, PeerChunk, PeerInfo, PeerReadOptions, PeerStore } from './peer-store.js';

/** A peer storage over its BlockStore gRPC service. */
export class GrpcPeerStore implements PeerStore {
  private readonly client: BlockStoreClient;
  private readonly target: string;

  /** `token`: the credential presented there (config `peers[].token`, a peer-read or peer-push client of that storage). */
  constructor(
    readonly site: string,
    readonly address: string,
    token?: string,
  ) {
    this.client = createBlockStoreClient(address, { token });
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

  async getManifest(backupId: string, options: PeerReadOptions = {}): Promise<Buffer> {
    await this.ready(options);
    const res = await callUnary<GetManifestRequest, GetManifestResponse__Output>(
      this.target,
      this.client.getManifest.bind(this.client),
      { backupId, excludeSites: [...(options.excludeSites ?? [])] },
    );
    return res.manifest;
  }

  async getIndex(backupId: string, disk: string, options: PeerReadOptions = {}): Promise<Buffer> {
    await this.ready(options);
    const parts: Buffer[] = [];
    const call = this.client.getIndex({ backupId, disk, excludeSites: [...(options.excludeSites ?? [])] });
    for await (const part of readServerStream(this.target, call)) parts.push(part.data);
    return Buffer.concat(parts);
  }

  async *getChunks(digests: readonly Buffer[], options: PeerReadOptions = {}): AsyncIterable<PeerChunk> {
    await this.ready(options);
    const call = this.client.getChunks({ digests: [...digests], excludeSites: [...(options.excludeSites ?? [])] });
    for await (const msg of readServerStream(this.target, call)) {
      yield { digest: msg.digest, blob: msg.blob };
    }
  }

  /**
   * With `waitForReadyMs`: waits (at most that long) for the channel to connect, so a call right
   * after a link came back does not fail while grpc-js is still reconnecting. A channel still
   * down afterwards lets the call fail as usual.
   */
  private ready(options: PeerReadOptions): Promise<void> {
    const ms = options.waitForReadyMs ?? 0;
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.client.waitForReady(Date.now() + ms, () => resolve()));
  }

  close(): void {
    this.client.close();
  }
}
