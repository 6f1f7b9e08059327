/**
 * One small call per BlockStore method, for tests of who may call what
 * (storage/api/access-control.ts): each resolves when the call succeeds and rejects with the
 * AppError the answer stands for (its code says UNAUTHENTICATED, PERMISSION_DENIED, ...).
 */
import type * as grpc from '@grpc/grpc-js';
import { AppError } from '../../shared/errors.js';
import { callUnary, readServerStream } from '../../shared/rpc/grpc-calls.js';
import { fromServiceError } from '../../shared/rpc/grpc-errors.js';
import type { BlockStoreClient } from '../../shared/rpc/proto-packages.js';
import type { BlockStoreMethod } from '../api/access-control.js';
import { putChunks } from './test-storage.js';

/** What the probes send: an existing backup to read, and chunks to write. */
export interface ProbeTarget {
  readonly backupId: string;
  readonly disk: string;
  readonly digest: Buffer;
  readonly chunk: { digest: Buffer; blob: Buffer };
  /** The manifest file of the backup (ImportBackup sends it back). */
  readonly manifest: Buffer;
  /** A session id for the methods that take one (any string: a refused call never reaches it). */
  readonly sessionId: string;
}

function clientStream<Req>(start: (cb: grpc.requestCallback<unknown>) => grpc.ClientWritableStream<Req>, messages: Req[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = start((err) => (err ? reject(fromServiceError(err, 'storage')) : resolve()));
    for (const m of messages) stream.write(m);
    stream.end();
  });
}

/** A call of `method` by `client`, with a plausible request. */
export async function probe(client: BlockStoreClient, method: BlockStoreMethod, t: ProbeTarget, opts: { sessionId?: string } = {}): Promise<void> {
  const sessionId = opts.sessionId ?? t.sessionId;
  switch (method) {
    case 'GetDatastoreInfo':
      await callUnary('storage', client.getDatastoreInfo.bind(client), {});
      return;
    case 'ListBackups':
      await callUnary('storage', client.listBackups.bind(client), { vm: '' });
      return;
    case 'GetManifest':
      await callUnary('storage', client.getManifest.bind(client), { backupId: t.backupId });
      return;
    case 'GetIndex':
      for await (const _ of readServerStream('storage', client.getIndex({ backupId: t.backupId, disk: t.disk }))) void _;
      return;
    case 'GetChunks':
      for await (const _ of readServerStream('storage', client.getChunks({ digests: [t.digest] }))) void _;
      return;
    case 'FindMissing':
      await callUnary('storage', client.findMissing.bind(client), { digests: [t.digest], sessionId });
      return;
    case 'PutChunks':
      await putChunks(client, sessionId, [t.chunk]);
      return;
    case 'BeginBackup':
      await callUnary('storage', client.beginBackup.bind(client), {
        vm: 'probe',
        disks: [{ name: 'd', sizeBytes: 1 }],
        jobId: 'probe',
        attempt: 1,
        mode: 'full',
        changeTracking: 'hash',
      });
      return;
    case 'PutIndex':
      await clientStream((cb) => client.putIndex(cb), [{ sessionId, disk: t.disk, firstChunk: 0, digests: t.digest }]);
      return;
    case 'CommitBackup':
      await callUnary('storage', client.commitBackup.bind(client), { sessionId, statsJson: '{}' });
      return;
    case 'AbortBackup':
      await callUnary('storage', client.abortBackup.bind(client), { sessionId });
      return;
    case 'ImportBackup':
      await clientStream((cb) => client.importBackup(cb), [{ manifest: t.manifest }]);
      return;
  }
}

/** The error code of a probe: 'OK' when it succeeded. */
export async function probeCode(client: BlockStoreClient, method: BlockStoreMethod, t: ProbeTarget, opts: { sessionId?: string } = {}): Promise<{ code: string; message: string }> {
  try {
    await probe(client, method, t, opts);
    return { code: 'OK', message: '' };
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
}
