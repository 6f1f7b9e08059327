/**
 * An in-memory BlockStore for tests: the storage contract of blockstore.proto on Maps, with the
 * same checks (each blob's checksum, and its digest when unencrypted, on receipt; every
 * referenced chunk present at commit) and the same idempotency (sessions keyed by job id +
 * attempt). With a key fingerprint it is an encrypted datastore: it accepts only encrypted blobs
 * and records the fingerprint and the writer's content HMAC in each manifest. Manifests and indexes
 * are real files built with shared/format, so readers check them as they would real ones.
 * Counters and a one-shot fault switch let tests see and break what crosses the port.
 */
import type { Clock } from '../../shared/clock.js';
import { ChunkMissingError, CorruptDataError, NotFoundError, PreconditionError, ValidationError } from '../../shared/errors.js';
import { checkBlob, decodeBlobChecked } from '../../shared/format/blob.js';
import { digestHex, DIGEST_BYTES, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { chunkCountFor, encodeFixedIndex, fixedIndexFileSha256 } from '../../shared/format/fixed-index.js';
import { decodeManifest, encodeManifest, MANIFEST_FORMAT, MANIFEST_VERSION } from '../../shared/format/manifest.js';
import { newId } from '../../shared/ids.js';
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

/** Operations a test can make fail once. */
export type MemoryBlockStoreOperation = 'findMissing' | 'putChunks' | 'putIndex' | 'commitBackup' | 'getChunks';

interface Session {
  readonly request: BeginBackupRequest;
  readonly indexes: Map<string, Buffer>;
}

export class MemoryBlockStore implements BlockStore {
  readonly datastoreId = newId();
  /** Blobs by digest hex. */
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  /** Index files by `${backupId}/${disk}`. */
  readonly indexFiles = new Map<string, Buffer>();
  /** Digest hex of every blob received, in order (duplicates included). */
  readonly received: string[] = [];
  readonly calls = new Map<string, number>();
  readonly sessions = new Map<string, Session>();
  private readonly attempts = new Map<string, { sessionId: string; backupId: string | null }>();
  private readonly faults = new Map<MemoryBlockStoreOperation, Error>();

  constructor(
    private readonly clock: Clock,
    readonly site = 'test',
    readonly chunkSizeBytes = 64 * 1024,
    /** The datastore's key fingerprint; null: unencrypted. */
    readonly keyFingerprint: string | null = null,
  ) {}

  /** Makes the next call of `operation` fail with `err`. */
  failNext(operation: MemoryBlockStoreOperation, err: Error): void {
    this.faults.set(operation, err);
  }

  private enter(operation: string): void {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const fault = this.faults.get(operation as MemoryBlockStoreOperation);
    if (fault) {
      this.faults.delete(operation as MemoryBlockStoreOperation);
      throw fault;
    }
  }

  info(): Promise<DatastoreInfo> {
    this.enter('info');
    return Promise.resolve({
      datastoreId: this.datastoreId,
      formatVersion: 1,
      chunkSizeBytes: this.chunkSizeBytes,
      site: this.site,
      keyFingerprint: this.keyFingerprint,
    });
  }

  findMissing(digests: readonly Buffer[]): Promise<Buffer[]> {
    return this.run(() => {
      this.enter('findMissing');
      if (digests.length > 16384) throw new ValidationError('digests', 'at most 16384 per call');
      return digests.filter((d) => !this.blobs.has(digestHex(d)));
    });
  }

  putChunks(sessionId: string): ChunkWriter {
    const staged: { digest: Buffer; blob: Buffer }[] = [];
    let failure: Error | undefined;
    try {
      this.enter('putChunks');
    } catch (err) {
      failure = err as Error;
    }
    return {
      write: (digest, blob) => {
        if (failure) return Promise.reject(failure);
        staged.push({ digest: Buffer.from(digest), blob: Buffer.from(blob) });
        return Promise.resolve();
      },
      close: () =>
        this.run((): PutChunksTotals => {
          if (failure) throw failure;
          if (!this.sessions.has(sessionId)) throw new NotFoundError('session', sessionId);
          let chunksWritten = 0;
          let chunksAlreadyPresent = 0;
          let bytesWritten = 0;
          for (const { digest, blob } of staged) {
            const hex = digestHex(digest);
            this.received.push(hex);
            const header = checkBlob(blob, `chunk ${hex}`);
            if (this.keyFingerprint === null) decodeBlobChecked(blob, digest);
            else if (!header.encrypted) throw new CorruptDataError(`chunk ${hex}`, 'is not encrypted but the datastore is');
            if (this.blobs.has(hex)) {
              chunksAlreadyPresent++;
            } else {
              this.blobs.set(hex, blob);
              chunksWritten++;
              bytesWritten += blob.length;
            }
          }
          return { chunksWritten, chunksAlreadyPresent, bytesWritten };
        }),
      abort: () => {
        failure ??= new PreconditionError('stream aborted');
      },
    };
  }

  async *getChunks(digests: readonly Buffer[]): AsyncIterable<FetchedChunk> {
    this.enter('getChunks');
    for (const digest of digests) {
      await Promise.resolve();
      const blob = this.blobs.get(digestHex(digest));
      if (!blob) throw new ChunkMissingError([digestHex(digest)]);
      // A copy, as a remote store's would be: the reader owns what it receives.
      yield { digest: Buffer.from(digest), blob: Buffer.from(blob) };
    }
  }

  beginBackup(request: BeginBackupRequest): Promise<BeginBackupResponse> {
    return this.run(() => {
      this.enter('beginBackup');
      const key = `${request.jobId}#${request.attempt}`;
      const earlier = this.attempts.get(key);
      if (earlier?.backupId) {
        return { sessionId: '', chunkSizeBytes: this.chunkSizeBytes, committedBackupId: earlier.backupId };
      }
      if (earlier) this.sessions.delete(earlier.sessionId);
      const sessionId = newId();
      this.sessions.set(sessionId, { request, indexes: new Map() });
      this.attempts.set(key, { sessionId, backupId: null });
      return { sessionId, chunkSizeBytes: this.chunkSizeBytes, committedBackupId: null };
    });
  }

  putIndex(sessionId: string, disk: string, digests: Buffer): Promise<{ chunkCount: number }> {
    return this.run(() => {
      this.enter('putIndex');
      const session = this.sessionOf(sessionId);
      const spec = session.request.disks.find((d) => d.name === disk);
      if (!spec) throw new ValidationError('disk', `no disk ${disk} in this session`);
      const chunkCount = chunkCountFor(spec.sizeBytes, this.chunkSizeBytes);
      if (digests.length !== chunkCount * DIGEST_BYTES) throw new ValidationError('digests', `disk ${disk} needs ${chunkCount} digests`);
      session.indexes.set(disk, Buffer.from(digests));
      return { chunkCount };
    });
  }

  commitBackup(sessionId: string, stats: Readonly<Record<string, number | string>>, contentHmac?: string | null): Promise<BackupSummary> {
    return this.run(() => {
      this.enter('commitBackup');
      if (this.keyFingerprint !== null && !contentHmac) throw new ValidationError('content_hmac', 'required: the datastore is encrypted');
      if (this.keyFingerprint === null && contentHmac) throw new ValidationError('content_hmac', 'must be empty: the datastore is not encrypted');
      const session = this.sessionOf(sessionId);
      const { request } = session;
      const backupId = newId(this.clock.nowMs());
      const disks = request.disks.map((spec) => {
        const digests = session.indexes.get(spec.name);
        if (!digests) throw new PreconditionError(`no index for disk ${spec.name}`);
        const missing: string[] = [];
        let zeroChunks = 0;
        for (let i = 0; i < digests.length; i += DIGEST_BYTES) {
          const digest = digests.subarray(i, i + DIGEST_BYTES);
          if (isZeroDigest(digest)) zeroChunks++;
          else if (!this.blobs.has(digestHex(digest))) missing.push(digestHex(digest));
        }
        if (missing.length > 0) throw new ChunkMissingError(missing, { disk: spec.name });
        const file = encodeFixedIndex(this.chunkSizeBytes, spec.sizeBytes, digests);
        this.indexFiles.set(`${backupId}/${spec.name}`, file);
        return {
          name: spec.name,
          sizeBytes: spec.sizeBytes,
          chunkCount: chunkCountFor(spec.sizeBytes, this.chunkSizeBytes),
          zeroChunks,
          indexSha256: fixedIndexFileSha256(file),
        };
      });
      this.manifests.set(
        backupId,
        encodeManifest({
          format: MANIFEST_FORMAT,
          version: MANIFEST_VERSION,
          backupId,
          vm: request.vm,
          datastoreId: this.datastoreId,
          createdAt: this.clock.nowIso(),
          jobId: request.jobId,
          attempt: request.attempt,
          mode: request.mode,
          parentBackupId: request.parentBackupId,
          changeTracking: request.changeTracking,
          changeTrackingNote: request.changeTrackingNote,
          ...(request.checkpoint ? { checkpoint: request.checkpoint } : {}),
          ...(request.consistency ? { consistency: request.consistency } : {}),
          ...(request.vmDefinition ? { vmDefinition: { hypervisor: request.vmDefinition.hypervisor, definition: { ...request.vmDefinition.definition } } } : {}),
          chunkSizeBytes: this.chunkSizeBytes,
          keyFingerprint: this.keyFingerprint,
          contentHmac: contentHmac ?? null,
          disks,
          stats: { ...stats },
        }),
      );
      this.sessions.delete(sessionId);
      this.attempts.set(`${request.jobId}#${request.attempt}`, { sessionId, backupId });
      return this.summaryOf(backupId);
    });
  }

  abortBackup(sessionId: string): Promise<void> {
    return this.run(() => {
      this.enter('abortBackup');
      this.sessions.delete(sessionId);
    });
  }

  listBackups(vm?: string): Promise<BackupSummary[]> {
    return this.run(() => {
      this.enter('listBackups');
      return [...this.manifests.keys()].map((id) => this.summaryOf(id)).filter((b) => !vm || b.vm === vm);
    });
  }

  getManifest(backupId: string): Promise<Buffer> {
    return this.run(() => {
      this.enter('getManifest');
      const file = this.manifests.get(backupId);
      if (!file) throw new NotFoundError('backup', backupId);
      return file;
    });
  }

  getIndex(backupId: string, disk: string): Promise<Buffer> {
    return this.run(() => {
      this.enter('getIndex');
      const file = this.indexFiles.get(`${backupId}/${disk}`);
      if (!file) throw new NotFoundError('index', `${backupId}/${disk}`);
      return file;
    });
  }

  close(): void {}

  private sessionOf(sessionId: string): Session {
    const session = this.sessions.get(sessionId);
    if (!session) throw new NotFoundError('session', sessionId);
    return session;
  }

  private summaryOf(backupId: string): BackupSummary {
    const file = this.manifests.get(backupId);
    if (!file) throw new NotFoundError('backup', backupId);
    const m = decodeManifest(file);
    return {
      backupId: m.backupId,
      vm: m.vm,
      createdAt: m.createdAt,
      mode: m.mode,
      parentBackupId: m.parentBackupId,
      disks: m.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, chunkCount: d.chunkCount, zeroChunks: d.zeroChunks })),
      jobId: m.jobId,
      attempt: m.attempt,
      chunkSizeBytes: m.chunkSizeBytes,
      changeTracking: m.changeTracking,
    };
  }

  /** Runs synchronously but answers asynchronously, like a remote store. */
  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
