/**
 * The BlockStore port over gRPC (proto/bulwark/v1/blockstore.proto). One channel per store;
 * PutChunks is one long client stream per backup that honours write()/'drain' backpressure
 * (../shared/GRPC-THROUGHPUT.md); indexes travel in parts of at most 1 MiB. Failures come back
 * as AppErrors (fromServiceError); idempotent reads are retried on UNAVAILABLE and
 * DEADLINE_EXCEEDED with a short backoff.
 */
import type * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { fromServiceError, isRetryable } from '../../shared/rpc/grpc-errors.js';
import { callUnary, deadlineIn, readServerStream } from '../../shared/rpc/grpc-calls.js';
import type { GetDatastoreInfoRequest } from '../../shared/rpc/generated/bulwark/v1/GetDatastoreInfoRequest.js';
import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { FindMissingRequest } from '../../shared/rpc/generated/bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../../shared/rpc/generated/bulwark/v1/FindMissingResponse.js';
import type { BeginBackupRequest as BeginBackupMessage } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import type { CommitBackupRequest } from '../../shared/rpc/generated/bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/CommitBackupResponse.js';
import type { AbortBackupRequest } from '../../shared/rpc/generated/bulwark/v1/AbortBackupRequest.js';
import type { AbortBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/AbortBackupResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import type { GetManifestRequest } from '../../shared/rpc/generated/bulwark/v1/GetManifestRequest.js';
import type { GetManifestResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetManifestResponse.js';
import type { BackupSummary__Output } from '../../shared/rpc/generated/bulwark/v1/BackupSummary.js';
import type { PutChunksResponse__Output } from '../../shared/rpc/generated/bulwark/v1/PutChunksResponse.js';
import { createBlockStoreClient, putChunksMethod, type BlockStoreClient, type BlockStoreClientOptions } from '../../shared/rpc/proto-packages.js';
import { encodePutChunksRequest } from './put-chunks-encoding.js';
import { youngGcEvery } from './young-gc.js';
import type {
  BackupSummary,
  BeginBackupRequest,
  BeginBackupResponse,
  BlockStore,
  ChunkWriter,
  DatastoreInfo,
  FetchedChunk,
  PutChunksTotals,
} from '../ports/block-store.js';

const UNARY_DEADLINE_MS = 60_000;
/** Digests per PutIndex part: 1 MiB of digests. */
const INDEX_PART_DIGESTS = 32 * 1024;
const RETRY_ATTEMPTS = 5;

export class GrpcBlockStore implements BlockStore {
  private readonly client: BlockStoreClient;
  // Every received message is garbage once its blob has been copied to a chunk thread.
  private readonly collect = youngGcEvery(GC_EVERY_BYTES);

  /** `options.token`: the bearer token sent with every call, PutChunks streams included. */
  constructor(
    readonly address: string,
    options: BlockStoreClientOptions = {},
  ) {
    this.client = createBlockStoreClient(address, options);
  }

  info(): Promise<DatastoreInfo> {
    return this.retrying(async () => {
      const res = await this.unary<GetDatastoreInfoRequest, DatastoreInfo__Output>((req, opts, cb) => this.client.getDatastoreInfo(req, opts, cb), {});
      return {
        datastoreId: res.datastoreId,
        formatVersion: res.formatVersion,
        chunkSizeBytes: res.chunkSizeBytes,
        site: res.site,
        keyFingerprint: res.keyFingerprint || null,
      };
    });
  }

  findMissing(digests: readonly Buffer[], sessionId?: string): Promise<Buffer[]> {
    return this.retrying(async () => {
      const res = await this.unary<FindMissingRequest, FindMissingResponse__Output>((req, opts, cb) => this.client.findMissing(req, opts, cb), { digests: [...digests], sessionId: sessionId ?? '' });
      return res.missing;
    });
  }

  putChunks(sessionId: string): ChunkWriter {
    return new GrpcChunkWriter(this.address, this.client, sessionId);
  }

  async *getChunks(digests: readonly Buffer[]): AsyncIterable<FetchedChunk> {
    const stream = this.client.getChunks({ digests: [...digests] });
    for await (const res of readServerStream(this.address, stream)) {
      this.collect(res.blob.length);
      yield { digest: res.digest, blob: res.blob };
    }
  }

  async beginBackup(request: BeginBackupRequest): Promise<BeginBackupResponse> {
    // Not retried: the store keys sessions by job id + attempt, but a lost answer is the job's to retry.
    const res = await this.unary<BeginBackupMessage, BeginBackupResponse__Output>((req, opts, cb) => this.client.beginBackup(req, opts, cb), {
      vm: request.vm,
      disks: request.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes })),
      jobId: request.jobId,
      attempt: request.attempt,
      parentBackupId: request.parentBackupId ?? '',
      mode: request.mode,
      changeTracking: request.changeTracking,
      changeTrackingNote: request.changeTrackingNote ?? '',
      checkpoint: request.checkpoint ?? '',
      consistency: request.consistency?.level ?? '',
      consistencyNote: request.consistency?.note ?? '',
      vmDefinitionJson: request.vmDefinition ? JSON.stringify(request.vmDefinition) : '',
    });
    return { sessionId: res.sessionId, chunkSizeBytes: res.chunkSizeBytes, committedBackupId: res.committedBackupId || null };
  }

  async putIndex(sessionId: string, disk: string, digests: Buffer): Promise<{ chunkCount: number }> {
    const chunkCount = digests.length / DIGEST_BYTES;
    const stream = new ClientStream<{ sessionId?: string; disk: string; firstChunk: number; digests: Buffer }, { chunkCount: number }>(
      this.address,
      (cb) => this.client.putIndex(cb),
    );
    // Always one part at least, so an empty disk is still named to the store.
    for (let first = 0; first === 0 || first < chunkCount; first += INDEX_PART_DIGESTS) {
      const part = digests.subarray(first * DIGEST_BYTES, Math.min(chunkCount, first + INDEX_PART_DIGESTS) * DIGEST_BYTES);
      await stream.write({ ...(first === 0 ? { sessionId } : {}), disk, firstChunk: first, digests: part });
    }
    const res = await stream.close();
    return { chunkCount: res.chunkCount };
  }

  async commitBackup(sessionId: string, stats: Readonly<Record<string, number | string>>, contentHmac?: string | null): Promise<BackupSummary> {
    const res = await this.unary<CommitBackupRequest, CommitBackupResponse__Output>((req, opts, cb) => this.client.commitBackup(req, opts, cb), {
      sessionId,
      statsJson: JSON.stringify(stats),
      contentHmac: contentHmac ?? '',
    });
    if (!res.backup) throw fromServiceError(new Error('CommitBackup answered without a backup'), this.address);
    return summaryOf(res.backup);
  }

  async abortBackup(sessionId: string): Promise<void> {
    await this.unary<AbortBackupRequest, AbortBackupResponse__Output>((req, opts, cb) => this.client.abortBackup(req, opts, cb), { sessionId });
  }

  listBackups(vm?: string): Promise<BackupSummary[]> {
    return this.retrying(async () => {
      const res = await this.unary<ListBackupsRequest, ListBackupsResponse__Output>((req, opts, cb) => this.client.listBackups(req, opts, cb), { vm: vm ?? '' });
      return res.backups.map(summaryOf);
    });
  }

  getManifest(backupId: string): Promise<Buffer> {
    return this.retrying(async () => (await this.unary<GetManifestRequest, GetManifestResponse__Output>((req, opts, cb) => this.client.getManifest(req, opts, cb), { backupId })).manifest);
  }

  getIndex(backupId: string, disk: string): Promise<Buffer> {
    return this.retrying(async () => {
      const parts: Buffer[] = [];
      for await (const res of readServerStream(this.address, this.client.getIndex({ backupId, disk }))) parts.push(res.data);
      return Buffer.concat(parts);
    });
  }

  close(): void {
    this.client.close();
  }

  private unary<Req, Res>(
    method: (req: Req, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown,
    request: Req,
  ): Promise<Res> {
    return callUnary(this.address, method, request, { deadline: deadlineIn(UNARY_DEADLINE_MS) });
  }

  /** Repeats an idempotent call while it fails with a retryable error. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= RETRY_ATTEMPTS || !isRetryable(err)) throw err;
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }
}

function summaryOf(b: BackupSummary__Output): BackupSummary {
  return {
    backupId: b.backupId,
    vm: b.vm,
    createdAt: b.createdAt,
    mode: b.mode,
    parentBackupId: b.parentBackupId || null,
    disks: b.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, chunkCount: d.chunkCount, zeroChunks: d.zeroChunks })),
    jobId: b.jobId,
    attempt: b.attempt,
    chunkSizeBytes: b.chunkSizeBytes,
    changeTracking: b.changeTracking,
  };
}

/**
 * A client stream that waits for 'drain' when grpc-js's buffer is full, and fails every pending
 * or later write as soon as the call has failed (a failed call never drains).
 */
class ClientStream<Req, Res> {
  private readonly stream: grpc.ClientWritableStream<Req>;
  private readonly result: Promise<Res>;
  private failure: Error | undefined;
  private readonly waiters = new Set<(err?: Error) => void>();

  constructor(
    target: string,
    open: (cb: grpc.requestCallback<Res>) => grpc.ClientWritableStream<Req>,
  ) {
    let settle: (err: Error | null, res?: Res) => void = () => undefined;
    this.result = new Promise<Res>((resolve, reject) => {
      settle = (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(fromServiceError(new Error('empty response'), target));
        else resolve(res);
      };
    });
    // Marked handled: a failure is surfaced by write() or close(), whichever comes first.
    this.result.catch(() => undefined);
    this.stream = open((err, res) => {
      if (err) {
        this.failure = fromServiceError(err, target);
        for (const wake of this.waiters) wake(this.failure);
        this.waiters.clear();
        settle(this.failure);
      } else {
        settle(null, res);
      }
    });
    this.stream.on('drain', () => {
      for (const wake of this.waiters) wake();
      this.waiters.clear();
    });
  }

  async write(message: Req): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.write(message)) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.add((err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    this.stream.end();
    return this.result;
  }

  cancel(): void {
    this.stream.cancel();
  }
}

/** Main-thread scavenge after this many bytes of messages sent or received (young-gc.ts). */
const GC_EVERY_BYTES = 4 * 1024 * 1024;

class GrpcChunkWriter implements ChunkWriter {
  private readonly stream: ClientStream<Buffer, PutChunksResponse__Output>;
  private first = true;
  // grpc-js copies each message once more when it frames it: garbage the size of the upload.
  private readonly collect = youngGcEvery(GC_EVERY_BYTES);

  constructor(address: string, client: BlockStoreClient, private readonly sessionId: string) {
    // Each message is serialized as it is written, not when grpc-js gets to it, so the blob is
    // copied before write() returns and the caller can reuse its memory (the chunk slots).
    const method = putChunksMethod();
    this.stream = new ClientStream(address, (cb) => client.makeClientStreamRequest(method.path, (bytes: Buffer) => bytes, method.responseDeserialize, cb));
  }

  write(digest: Buffer, blob: Buffer): Promise<void> {
    const message = encodePutChunksRequest(this.first ? this.sessionId : undefined, digest, blob);
    this.first = false;
    this.collect(blob.length);
    return this.stream.write(message);
  }

  async close(): Promise<PutChunksTotals> {
    const res = await this.stream.close();
    return { chunksWritten: res.chunksWritten, chunksAlreadyPresent: res.chunksAlreadyPresent, bytesWritten: res.bytesWritten };
  }

  abort(): void {
    this.stream.cancel();
  }
}
