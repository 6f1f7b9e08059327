/**
 * The BlockStore gRPC service: decodes and validates each request, calls the datastore, and
 * maps its answer back. Errors are mapped to gRPC status once, by the shared call wrappers.
 */
import type * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { describeIssue } from '../../shared/config/load-config.js';
import { ValidationError } from '../../shared/errors.js';
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { FIDX_HEADER_BYTES } from '../../shared/format/fixed-index.js';
import { decodeManifest, VmDefinition, type Manifest } from '../../shared/format/manifest.js';
import { ObjectName, SiteId, Ulid } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import { clientStreamHandler, serverStreamHandler, unaryHandler, writeWithBackpressure } from '../../shared/rpc/grpc-calls.js';
import type { BackupSummary } from '../../shared/rpc/generated/bulwark/v1/BackupSummary.js';
import type { BlockStoreHandlers } from '../../shared/rpc/proto-packages.js';
import type { BackupMarks } from '../datastore/backup-marks.js';
import type { ChunkIntake } from '../datastore/chunk-intake.js';
import type { Datastore } from '../datastore/datastore.js';
import type { HealContext, RepairService } from '../repair/repair-service.js';

/** Most digests one FindMissing or GetChunks call may carry. */
export const MAX_DIGESTS_PER_CALL = 16384;
/** Largest part of an index file in one GetIndex message. */
export const INDEX_PART_BYTES = 1024 * 1024;

/** Validates a decoded request; a failure names the field. */
function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const { field, rule } = first ? describeIssue(first) : { field: '', rule: 'invalid' };
    throw new ValidationError(field, rule);
  }
  return result.data;
}

function checkDigests(digests: readonly Buffer[], field: string): void {
  if (digests.length > MAX_DIGESTS_PER_CALL) throw new ValidationError(field, `at most ${MAX_DIGESTS_PER_CALL} digests per call`);
  digests.forEach((d, i) => {
    if (d.length !== DIGEST_BYTES) throw new ValidationError(`${field}.${i}`, `must be ${DIGEST_BYTES} bytes, got ${d.length}`);
  });
}

const emptyAsNull = (s: string): string | null => (s === '' ? null : s);

const BeginBackupRequest = z.object({
  vm: ObjectName,
  disks: z.array(z.object({ name: ObjectName, sizeBytes: z.number().int().nonnegative() })).min(1, 'at least one disk'),
  jobId: z.string().max(128),
  attempt: z.number().int().nonnegative(),
  parentBackupId: z.union([z.literal(''), Ulid]).transform(emptyAsNull),
  mode: z.enum(['full', 'incremental']),
  changeTracking: z.string().max(64).transform((s) => (s === '' ? 'hash' : s)),
  changeTrackingNote: z.string().max(1024).transform(emptyAsNull),
  checkpoint: z.string().max(64).transform(emptyAsNull),
  consistency: z.enum(['', 'crash', 'application'], 'must be crash or application'),
  consistencyNote: z.string().max(1024).transform(emptyAsNull),
  vmDefinitionJson: z.string().max(64 * 1024),
}).transform(({ consistency, consistencyNote, vmDefinitionJson, ...rest }, ctx) => {
  let vmDefinition: VmDefinition | undefined;
  if (vmDefinitionJson !== '') {
    const parsed = VmDefinition.safeParse(safeJson(vmDefinitionJson));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', path: ['vmDefinitionJson'], message: 'must be JSON {"hypervisor": string, "definition": object}' });
      return z.NEVER;
    }
    vmDefinition = parsed.data;
  }
  return {
    ...rest,
    ...(consistency === '' ? {} : { consistency: { level: consistency, note: consistencyNote } }),
    ...(vmDefinition ? { vmDefinition } : {}),
  };
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const SessionId = z.string().min(1, 'required').max(64);

const StatsJson = z
  .string()
  .transform((text, ctx) => {
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.union([z.number(), z.string()]), 'must be a JSON object of numbers and strings'));

const CommitBackupRequest = z.object({
  sessionId: SessionId,
  statsJson: StatsJson,
  contentHmac: z
    .string()
    .regex(/^([0-9a-f]{64})?$/, 'must be 64 lowercase hex characters, or empty')
    .transform(emptyAsNull),
});

/** The wire summary of a committed backup, with what storage knows of it beyond the manifest. */
export function backupSummary(m: Manifest, marks: BackupMarks = { verifiedAt: null, lock: null }): BackupSummary {
  return {
    backupId: m.backupId,
    vm: m.vm,
    createdAt: m.createdAt,
    mode: m.mode,
    parentBackupId: m.parentBackupId ?? '',
    disks: m.disks.map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, chunkCount: d.chunkCount, zeroChunks: d.zeroChunks })),
    jobId: m.jobId,
    attempt: m.attempt,
    chunkSizeBytes: m.chunkSizeBytes,
    changeTracking: m.changeTracking,
    verifiedAt: marks.verifiedAt ?? '',
    lockedUntil: marks.lock === null ? '' : marks.lock === 'damaged' ? 'damaged lock file: locked' : marks.lock.until,
  };
}

/** Resolves when the call is cancelled or closed, so a stalled write does not wait forever. */
function callGone(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    if (call.cancelled) resolve();
    call.once('cancelled', () => resolve());
    call.once('close', () => resolve());
  });
}

export interface BlockStoreServiceDeps {
  readonly datastore: Datastore;
  readonly site: string;
  readonly log: Logger;
  /** Heals what a read finds damaged or missing from peer sites; absent: reads fail on damage. */
  readonly repair?: RepairService;
  /** Told of the chunk bytes each call moves (the metrics endpoint); absent: nobody. */
  readonly traffic?: ChunkTraffic;
}

/** The chunk traffic of the data path, as PutChunks and GetChunks see it. */
export interface ChunkTraffic {
  /** A blob arrived on PutChunks (`bytes`: its size on the wire). */
  received(bytes: number): void;
  /** A PutChunks call ended: chunks and bytes it stored that were not stored before. */
  written(chunks: number, bytes: number): void;
  /** A blob went out on GetChunks. */
  sent(bytes: number): void;
}

const SiteList = z.array(SiteId).max(64, 'at most 64 sites');

/**
 * How reads of stored objects go: through the repair service when there is one (a damaged copy
 * is healed from a peer first, except from the sites the asker excludes), else straight from the
 * datastore. A read asked by a peer (it names sites to exclude) is a sync's or a peer's repair.
 */
function storedReads(datastore: Datastore, repair: RepairService | undefined) {
  const context = (excludeSites: readonly string[]): HealContext => ({ trigger: excludeSites.length > 0 ? 'sync' : 'read', excludeSites });
  return {
    chunk: (digest: Buffer, excludeSites: readonly string[]): Promise<Buffer> =>
      repair ? repair.readChunk(digest, context(excludeSites)) : datastore.readBlobChecked(digest),
    manifest: (backupId: string, excludeSites: readonly string[]): Promise<Buffer> =>
      repair ? repair.readManifest(backupId, context(excludeSites)) : datastore.readManifestFile(backupId),
    index: (backupId: string, disk: string, excludeSites: readonly string[]): Promise<Buffer> =>
      repair ? repair.readIndex(backupId, disk, context(excludeSites)) : datastore.readIndexFile(backupId, disk),
  };
}

/** The BlockStore handlers over one datastore. */
export function createBlockStoreService({ datastore, site, log, repair, traffic }: BlockStoreServiceDeps): BlockStoreHandlers {
  const reads = storedReads(datastore, repair);
  const summary = (m: Manifest): BackupSummary => ({ ...backupSummary(m, datastore.marksOf(m.backupId)), damage: repair?.journal.damageOf(m.backupId) ?? '' });
  return {
    GetDatastoreInfo: unaryHandler(log, () =>
      Promise.resolve({
        datastoreId: datastore.info.id,
        formatVersion: datastore.info.formatVersion,
        chunkSizeBytes: datastore.info.chunkSizeBytes,
        site,
        keyFingerprint: datastore.info.keyFingerprint ?? '',
      }),
    ),

    FindMissing: unaryHandler(log, async (req) => {
      checkDigests(req.digests, 'digests');
      const sessionId = req.sessionId === '' ? undefined : parseRequest(SessionId, req.sessionId);
      return { missing: await datastore.findMissing(req.digests, sessionId) };
    }),

    PutChunks: clientStreamHandler(log, async (call) => {
      let intake: ChunkIntake | undefined;
      try {
        for await (const msg of call as AsyncIterable<{ sessionId: string; digest: Buffer; blob: Buffer }>) {
          // No session: a push-mode sync, which imports the backup afterwards (ImportBackup).
          intake ??= datastore.chunkIntake(msg.sessionId === '' ? undefined : parseRequest(SessionId, msg.sessionId));
          checkDigests([msg.digest], 'digest');
          traffic?.received(msg.blob.length);
          await intake.accept(msg.digest, msg.blob);
        }
      } catch (err) {
        // Let the writes already started end before answering, so none outlives the call.
        await intake?.finish().catch(() => undefined);
        throw err;
      }
      if (!intake) return { chunksWritten: 0, chunksAlreadyPresent: 0, bytesWritten: 0 };
      const stats = await intake.finish();
      traffic?.written(stats.chunksWritten, stats.bytesWritten);
      return {
        chunksWritten: stats.chunksWritten,
        chunksAlreadyPresent: stats.chunksAlreadyPresent,
        bytesWritten: stats.bytesWritten,
      };
    }),

    GetChunks: serverStreamHandler(log, async (req, call) => {
      checkDigests(req.digests, 'digests');
      const excludeSites = parseRequest(SiteList, req.excludeSites);
      const gone = callGone(call);
      // Read a few blobs ahead of the one being sent; results are wrapped so none is left unhandled.
      type Read = { digest: Buffer; blob: Buffer } | { err: unknown };
      const read = (digest: Buffer): Promise<Read> =>
        reads.chunk(digest, excludeSites).then(
          (blob) => ({ digest, blob }),
          (err: unknown) => ({ err }),
        );
      const window: Promise<Read>[] = [];
      let next = 0;
      for (;;) {
        for (let d = req.digests[next]; window.length < 4 && d !== undefined; d = req.digests[next]) {
          window.push(read(d));
          next++;
        }
        const result = await window.shift();
        if (!result || call.cancelled) return;
        if ('err' in result) throw result.err;
        await Promise.race([writeWithBackpressure(call, result), gone]);
        traffic?.sent(result.blob.length);
      }
    }),

    BeginBackup: unaryHandler(log, async (req) => {
      const outcome = await datastore.beginBackup(parseRequest(BeginBackupRequest, req));
      return outcome.kind === 'committed'
        ? { sessionId: '', chunkSizeBytes: outcome.backup.chunkSizeBytes, committedBackupId: outcome.backup.backupId }
        : { sessionId: outcome.sessionId, chunkSizeBytes: outcome.chunkSizeBytes, committedBackupId: '' };
    }),

    PutIndex: clientStreamHandler(log, async (call) => {
      let upload: ReturnType<Datastore['openIndexUpload']> | undefined;
      for await (const msg of call as AsyncIterable<{ sessionId: string; disk: string; firstChunk: number; digests: Buffer }>) {
        upload ??= datastore.openIndexUpload(parseRequest(SessionId, msg.sessionId));
        upload.addPart(parseRequest(ObjectName, msg.disk), msg.firstChunk, msg.digests);
      }
      if (!upload) throw new ValidationError('session_id', 'the stream carried no index part');
      return { chunkCount: await upload.finish() };
    }),

    CommitBackup: unaryHandler(log, async (req) => {
      const { sessionId, statsJson, contentHmac } = parseRequest(CommitBackupRequest, req);
      const manifest = await datastore.commitBackup(sessionId, statsJson, contentHmac);
      return { backup: summary(manifest) };
    }),

    AbortBackup: unaryHandler(log, async (req) => {
      await datastore.abortBackup(parseRequest(SessionId, req.sessionId));
      return {};
    }),

    ListBackups: unaryHandler(log, (req) => {
      const vm = req.vm === '' ? undefined : parseRequest(ObjectName, req.vm);
      return Promise.resolve({ backups: datastore.catalog.list(vm).map(summary) });
    }),

    GetManifest: unaryHandler(log, async (req) => ({
      manifest: await reads.manifest(parseRequest(Ulid, req.backupId), parseRequest(SiteList, req.excludeSites)),
    })),

    // Push-mode sync. The first message carries the manifest, later ones each disk's index in
    // parts (bounded by the sizes the manifest implies). A stream with the manifest alone only
    // asks: the answer has the backup when it is here, pruned_here when this datastore removed
    // it, neither when it is wanted (every real import carries at least one index header).
    ImportBackup: clientStreamHandler(log, async (call) => {
      let manifestFile: Buffer | undefined;
      let manifest: Manifest | undefined;
      const parts = new Map<string, { file: Buffer[]; bytes: number; limit: number }>();
      for await (const msg of call as AsyncIterable<{ manifest: Buffer; disk: string; indexPart: Buffer }>) {
        if (!manifest) {
          if (msg.manifest.length === 0) throw new ValidationError('manifest', 'required on the first message');
          manifestFile = msg.manifest;
          manifest = decodeManifest(msg.manifest, 'manifest offered by ImportBackup');
          continue;
        }
        if (msg.manifest.length > 0) throw new ValidationError('manifest', 'only on the first message');
        const disk = parseRequest(ObjectName, msg.disk);
        let entry = parts.get(disk);
        if (!entry) {
          const described = manifest.disks.find((d) => d.name === disk);
          if (!described) throw new ValidationError('disk', `${disk} is not a disk of backup ${manifest.backupId}`);
          entry = { file: [], bytes: 0, limit: FIDX_HEADER_BYTES + described.chunkCount * DIGEST_BYTES };
          parts.set(disk, entry);
        }
        entry.bytes += msg.indexPart.length;
        if (entry.bytes > entry.limit) throw new ValidationError('index_part', `the index of disk ${disk} is larger than its manifest allows (${entry.limit} bytes)`);
        entry.file.push(msg.indexPart);
      }
      if (!manifest || !manifestFile) throw new ValidationError('manifest', 'the stream carried no message');
      if (parts.size === 0) {
        const here = datastore.catalog.get(manifest.backupId);
        if (here) return { backup: summary(here), imported: false, prunedHere: false };
        return { backup: null, imported: false, prunedHere: datastore.prunedLog.has(manifest.backupId) };
      }
      const files = new Map([...parts].map(([disk, entry]) => [disk, Buffer.concat(entry.file)]));
      const outcome = await datastore.importBackup(manifestFile, files);
      if (outcome.prunedHere) return { backup: null, imported: false, prunedHere: true };
      return { backup: summary(outcome.manifest), imported: outcome.imported, prunedHere: false };
    }),

    GetIndex: serverStreamHandler(log, async (req, call) => {
      const file = await reads.index(parseRequest(Ulid, req.backupId), parseRequest(ObjectName, req.disk), parseRequest(SiteList, req.excludeSites));
      const gone = callGone(call);
      for (let offset = 0; offset < file.length && !call.cancelled; offset += INDEX_PART_BYTES) {
        await Promise.race([writeWithBackpressure(call, { data: file.subarray(offset, offset + INDEX_PART_BYTES) }), gone]);
      }
    }),
  };
}
