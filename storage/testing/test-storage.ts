/**
 * A storage for tests: a datastore in a directory and its BlockStore gRPC server on
 * 127.0.0.1:0, plus client-side steps of a backup and a restore over the real wire.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../shared/clock.js';
import { contentHmac } from '../../shared/crypto/datastore-keys.js';
import type { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { decodeFixedIndex, encodeFixedIndex, fixedIndexFileSha256 } from '../../shared/format/fixed-index.js';
import { silentLogger } from '../../shared/log.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import { fromServiceError } from '../../shared/rpc/grpc-errors.js';
import type { BackupSummary__Output } from '../../shared/rpc/generated/bulwark/v1/BackupSummary.js';
import type { BeginBackupRequest } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import type { CommitBackupRequest } from '../../shared/rpc/generated/bulwark/v1/CommitBackupRequest.js';
import type { CommitBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/CommitBackupResponse.js';
import type { FindMissingRequest } from '../../shared/rpc/generated/bulwark/v1/FindMissingRequest.js';
import type { FindMissingResponse__Output } from '../../shared/rpc/generated/bulwark/v1/FindMissingResponse.js';
import type { PutChunksRequest } from '../../shared/rpc/generated/bulwark/v1/PutChunksRequest.js';
import type { PutIndexRequest } from '../../shared/rpc/generated/bulwark/v1/PutIndexRequest.js';
import type { PutChunksResponse__Output } from '../../shared/rpc/generated/bulwark/v1/PutChunksResponse.js';
import type { PutIndexResponse__Output } from '../../shared/rpc/generated/bulwark/v1/PutIndexResponse.js';
import { blockStorePackage, createBlockStoreClient, type BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { startGrpcServer, stopGrpcServer } from '../../shared/rpc/grpc-server.js';
import { writeWithBackpressure } from '../../shared/rpc/grpc-calls.js';
import { createAccessInterceptor, type AccessConfig } from '../api/access-control.js';
import { createBlockStoreService } from '../api/blockstore-service.js';
import { Datastore } from '../datastore/datastore.js';
import { rebuildDisk, type ChunkedDisk } from './disk-fixture.js';

export interface TestStorage {
  readonly datastore: Datastore;
  readonly address: string;
  readonly client: BlockStoreClient;
  stop(): Promise<void>;
}

/** Opens a datastore in `dir` and serves it on a free port. */
export async function startTestStorage(
  dir: string,
  site: string,
  clock: Clock,
  chunkSizeBytes = 64 * 1024,
  options: {
    keyFingerprint?: string;
    /** Enforce these credentials (storage/api/access-control.ts); absent: every call is allowed. */
    access?: AccessConfig;
    /** The token `client` presents. */
    token?: string;
  } = {},
): Promise<TestStorage> {
  const log = silentLogger();
  const datastore = await Datastore.open(dir, { chunkSizeBytes, clock, log, keyFingerprint: options.keyFingerprint ?? null });
  const { server, address } = await startGrpcServer(
    '127.0.0.1:0',
    (s) => s.addService(blockStorePackage().BlockStore.service, createBlockStoreService({ datastore, site, log })),
    options.access ? { interceptors: [createAccessInterceptor(options.access, site, log)] } : {},
  );
  const client = createBlockStoreClient(address, { token: options.token });
  return {
    datastore,
    address,
    client,
    stop: async () => {
      client.close();
      await stopGrpcServer(server, 1000);
    },
  };
}

function finishClientStream<Req, Res>(
  target: string,
  start: (cb: grpc.requestCallback<Res>) => grpc.ClientWritableStream<Req>,
): { stream: grpc.ClientWritableStream<Req>; done: Promise<Res> } {
  let stream: grpc.ClientWritableStream<Req> | undefined;
  const done = new Promise<Res>((resolve, reject) => {
    stream = start((err, res) => (err || res === undefined ? reject(fromServiceError(err, target)) : resolve(res)));
  });
  if (!stream) throw new Error('stream did not start');
  return { stream, done };
}

/** PutChunks with the given blobs; resolves with the server's answer. */
export async function putChunks(
  client: BlockStoreClient,
  sessionId: string,
  chunks: Iterable<{ digest: Buffer; blob: Buffer }>,
): Promise<PutChunksResponse__Output> {
  const { stream, done } = finishClientStream<PutChunksRequest, PutChunksResponse__Output>('PutChunks', (cb) => client.putChunks(cb));
  done.catch(() => undefined);
  for (const { digest, blob } of chunks) await writeWithBackpressure(stream, { sessionId, digest, blob });
  stream.end();
  return done;
}

/** A whole backup of one-disk VM through the wire, as an agent does it. */
export async function backupOverWire(
  client: BlockStoreClient,
  opts: {
    vm: string;
    disk: string;
    sizeBytes: number;
    chunked: ChunkedDisk;
    jobId: string;
    attempt?: number;
    /** The keyed codec the chunks were made with: the commit then carries the content HMAC. */
    codec?: ChunkCodec;
    /** Called between the upload and the commit (to run something while the session is open). */
    beforeCommit?: (sessionId: string) => Promise<void>;
  },
): Promise<{ backup: BackupSummary__Output; sent: number }> {
  const begin = await callUnary<BeginBackupRequest, BeginBackupResponse__Output>('BeginBackup', client.beginBackup.bind(client), {
    vm: opts.vm,
    disks: [{ name: opts.disk, sizeBytes: opts.sizeBytes }],
    jobId: opts.jobId,
    attempt: opts.attempt ?? 1,
    mode: 'full',
    changeTracking: 'hash',
  });
  const all = [...opts.chunked.blobs.values()];
  const { missing } = await callUnary<FindMissingRequest, FindMissingResponse__Output>('FindMissing', client.findMissing.bind(client), {
    digests: all.map((c) => c.digest),
    sessionId: begin.sessionId,
  });
  const wanted = new Set(missing.map((d) => d.toString('hex')));
  await putChunks(
    client,
    begin.sessionId,
    all.filter((c) => wanted.has(c.digest.toString('hex'))),
  );
  const index = finishClientStream<PutIndexRequest, PutIndexResponse__Output>('PutIndex', (cb) => client.putIndex(cb));
  const digests = opts.chunked.digests;
  const partChunks = 5;
  for (let first = 0; first < opts.chunked.chunkCount; first += partChunks) {
    index.stream.write({
      sessionId: begin.sessionId,
      disk: opts.disk,
      firstChunk: first,
      digests: digests.subarray(first * 32, Math.min(opts.chunked.chunkCount, first + partChunks) * 32),
    });
  }
  index.stream.end();
  await index.done;
  await opts.beforeCommit?.(begin.sessionId);
  const keys = opts.codec?.keys ?? null;
  const hmac = keys
    ? contentHmac(keys, {
        vm: opts.vm,
        chunkSizeBytes: begin.chunkSizeBytes,
        disks: [
          {
            name: opts.disk,
            sizeBytes: opts.sizeBytes,
            indexSha256: fixedIndexFileSha256(encodeFixedIndex(begin.chunkSizeBytes, opts.sizeBytes, digests)),
          },
        ],
      })
    : '';
  const committed = await callUnary<CommitBackupRequest, CommitBackupResponse__Output>('CommitBackup', client.commitBackup.bind(client), {
    sessionId: begin.sessionId,
    statsJson: JSON.stringify({ chunksSent: wanted.size }),
    contentHmac: hmac,
  });
  if (!committed.backup) throw new Error('no backup in the commit answer');
  return { backup: committed.backup, sent: wanted.size };
}

/** Reads one disk of a backup back through GetIndex and GetChunks (decrypting with `codec` when keyed). */
export async function restoreOverWire(client: BlockStoreClient, backupId: string, disk: string, codec?: ChunkCodec): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readServerStream('GetIndex', client.getIndex({ backupId, disk }))) parts.push(part.data);
  const index = decodeFixedIndex(Buffer.concat(parts));
  return rebuildDisk(index, async (digest) => {
    for await (const msg of readServerStream('GetChunks', client.getChunks({ digests: [digest] }))) return msg.blob;
    throw new Error(`no blob for ${digest.toString('hex')}`);
  }, codec);
}
