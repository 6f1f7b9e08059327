/**
 * The replica over its BlockStore gRPC service, as the sink of a push sync (a primary pushing
 * to a site that cannot reach back), with a `peer-push` credential: it may add chunks (PutChunks
 * without a session) and whole backups (ImportBackup), never replace or delete anything.
 *
 * Whether the replica would take a backup is asked by offering it its manifest alone (an
 * ImportBackup stream with no index part): the answer says present, pruned there, or absent,
 * before any chunk moves. Nothing is held against the replica's garbage collection between
 * PutChunks and ImportBackup: its grace period keeps fresh chunks, and an import that finds a
 * chunk gone fails with ChunkMissingError, after which the sync sends what is missing again.
 */
import type * as grpc from '@grpc/grpc-js';
import { PreconditionError, type AppError } from '../../shared/errors.js';
import { callUnary, deadlineIn, writeWithBackpressure } from '../../shared/rpc/grpc-calls.js';
import { fromServiceError } from '../../shared/rpc/grpc-errors.js';
import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { FindMissingRequest } from '../../shared/rpc/generated/bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../../shared/rpc/generated/bulwark/v1/FindMissingResponse.js';
import type { ImportBackupRequest } from '../../shared/rpc/generated/bulwark/v1/ImportBackupRequest.js';
import type { ImportBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ImportBackupResponse.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import type { PutChunksRequest } from '../../shared/rpc/generated/bulwark/v1/PutChunksRequest.js';
import type { PutChunksResponse__Output } from '../../shared/rpc/generated/bulwark/v1/PutChunksResponse.js';
import { createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { TaskPool } from '../datastore/task-pool.js';
import type { PeerBackup, PeerChunk, PeerInfo } from './peer-store.js';
import type { SinkBackupState, SinkImport, SinkPutStats, SyncSink } from './sync-ports.js';

/** Most digests per FindMissing call (the server's limit). */
const FIND_MISSING_BATCH = 16384;
/** Largest index part per ImportBackup message. */
const INDEX_PART_BYTES = 1024 * 1024;
/** Deadline of a unary call: a silent link fails it (DEADLINE_EXCEEDED) and the sync retries. */
const UNARY_DEADLINE_MS = 60_000;
/** Deadline of an ImportBackup: the replica checks every referenced chunk before it answers. */
const IMPORT_DEADLINE_MS = 10 * 60_000;
/** Manifest-only offers in flight while classifying. */
const CLASSIFY_CONCURRENCY = 8;

export interface GrpcSyncSinkOptions {
  /** The `peer-push` bearer token presented at the replica; absent: anonymous. */
  readonly token?: string | undefined;
}

export class GrpcSyncSink implements SyncSink {
  private readonly client: BlockStoreClient;
  private readonly target: string;

  constructor(
    readonly site: string,
    readonly address: string,
    options: GrpcSyncSinkOptions = {},
  ) {
    this.client = createBlockStoreClient(address, { token: options.token });
    this.target = `storage ${site} (${address})`;
  }

  async info(): Promise<PeerInfo> {
    const res = await callUnary<object, DatastoreInfo__Output>(this.target, this.client.getDatastoreInfo.bind(this.client), {}, { deadline: deadlineIn(UNARY_DEADLINE_MS) });
    return {
      datastoreId: res.datastoreId,
      chunkSizeBytes: res.chunkSizeBytes,
      keyFingerprint: res.keyFingerprint === '' ? null : res.keyFingerprint,
    };
  }

  async classify(listed: readonly PeerBackup[], manifestOf: (backupId: string) => Promise<Buffer>): Promise<Map<string, SinkBackupState>> {
    const res = await callUnary<ListBackupsRequest, ListBackupsResponse__Output>(this.target, this.client.listBackups.bind(this.client), { vm: '' }, { deadline: deadlineIn(UNARY_DEADLINE_MS) });
    const present = new Set(res.backups.map((b) => b.backupId));
    const states = new Map<string, SinkBackupState>();
    const pool = new TaskPool(CLASSIFY_CONCURRENCY);
    for (const b of listed) {
      if (present.has(b.backupId)) {
        states.set(b.backupId, 'present');
        continue;
      }
      await pool.run(async () => {
        let manifest: Buffer;
        try {
          manifest = await manifestOf(b.backupId);
        } catch {
          // Unreadable at the source: left to the copy, which reports why (listed in `failed`).
          states.set(b.backupId, 'absent');
          return;
        }
        const answer = await this.offer(manifest, new Map());
        states.set(b.backupId, answer.prunedHere ? 'pruned' : answer.backup ? 'present' : 'absent');
      });
    }
    await pool.drain();
    return states;
  }

  async findMissing(digests: readonly Buffer[]): Promise<Buffer[]> {
    const missing: Buffer[] = [];
    for (let at = 0; at < digests.length; at += FIND_MISSING_BATCH) {
      const res = await callUnary<FindMissingRequest, FindMissingResponse__Output>(
        this.target,
        this.client.findMissing.bind(this.client),
        { digests: digests.slice(at, at + FIND_MISSING_BATCH), sessionId: '' },
        { deadline: deadlineIn(UNARY_DEADLINE_MS) },
      );
      missing.push(...res.missing);
    }
    return missing;
  }

  hold(): () => void {
    return () => undefined;
  }

  async putChunks(chunks: AsyncIterable<PeerChunk>): Promise<SinkPutStats> {
    const { call, done } = this.clientStream<PutChunksRequest, PutChunksResponse__Output>((cb) => this.client.putChunks(cb));
    try {
      for await (const { digest, blob } of chunks) await this.write(call, done, { sessionId: '', digest, blob });
    } catch (err) {
      call.cancel();
      throw err;
    }
    call.end();
    const res = await done.promise;
    return { chunksWritten: res.chunksWritten, bytesWritten: res.bytesWritten };
  }

  async importBackup(manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<SinkImport> {
    if (indexFiles.size === 0) throw new PreconditionError('ImportBackup needs the index of every disk; none supplied');
    const res = await this.offer(manifestFile, indexFiles);
    return { imported: res.imported, prunedHere: res.prunedHere };
  }

  /** The replica cannot be told to forget its pruned records from here: it keeps them. */
  forgetPrunedAbsent(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.client.close();
  }

  /** One ImportBackup stream: the manifest, then each disk's index file in parts (none: only asks). */
  private async offer(manifestFile: Buffer, indexFiles: ReadonlyMap<string, Buffer>): Promise<ImportBackupResponse__Output> {
    const { call, done } = this.clientStream<ImportBackupRequest, ImportBackupResponse__Output>((cb) =>
      this.client.importBackup({ deadline: deadlineIn(IMPORT_DEADLINE_MS) }, cb),
    );
    try {
      await this.write(call, done, { manifest: manifestFile });
      for (const [disk, file] of indexFiles) {
        for (let at = 0; at < file.length; at += INDEX_PART_BYTES) {
          await this.write(call, done, { disk, indexPart: file.subarray(at, at + INDEX_PART_BYTES) });
        }
      }
    } catch (err) {
      call.cancel();
      throw err;
    }
    call.end();
    return done.promise;
  }

  private clientStream<Req, Res>(start: (cb: grpc.requestCallback<Res>) => grpc.ClientWritableStream<Req>): {
    call: grpc.ClientWritableStream<Req>;
    done: { promise: Promise<Res>; failure: () => AppError | undefined };
  } {
    let failure: AppError | undefined;
    let call: grpc.ClientWritableStream<Req> | undefined;
    const promise = new Promise<Res>((resolve, reject) => {
      call = start((err, res) => {
        if (err || res === undefined) {
          const mapped = fromServiceError(err ?? new Error('empty response'), this.target);
          failure = mapped;
          reject(mapped);
        } else {
          resolve(res);
        }
      });
    });
    // Observed here; the caller awaits it at the end or sees the failure through write().
    promise.catch(() => undefined);
    if (!call) throw new Error('client stream did not start');
    return { call, done: { promise, failure: () => failure } };
  }

  /** Writes one message with backpressure; a call that failed meanwhile fails the write. */
  private async write<Req, Res>(call: grpc.ClientWritableStream<Req>, done: { promise: Promise<Res>; failure: () => AppError | undefined }, message: Req): Promise<void> {
    const early = done.failure();
    if (early !== undefined) throw early;
    await Promise.race([writeWithBackpressure(call, message), done.promise.then(() => undefined, () => undefined)]);
    const failed = done.failure();
    if (failed !== undefined) throw failed;
  }
}
