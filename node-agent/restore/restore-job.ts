/**
 * The restore job: writes a backup's disks into a target directory as sparse raw images.
 *
 * Everything is checked before a byte is written: the manifest (self-checking, and it must name
 * the requested backup and VM), each disk's index (its file SHA-256 must equal the manifest's),
 * and that no `<disk>.img` exists yet. Each disk is written to `<disk>.img.partial`: truncated
 * to the disk size (all holes), then every non-zero chunk is fetched with GetChunks in batches
 * (each distinct digest once per batch), checked against its digest and written at every offset
 * that uses it; zero chunks stay holes. Then fsync, rename to `<disk>.img`, fsync the directory:
 * a crash leaves a `.partial` file (overwritten by the next attempt), never a torn `.img`.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { CancelledError, ChunkMissingError, CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { decodeBlobChecked } from '../../shared/format/blob.js';
import { digestHex, isZeroChunk, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex, digestAt, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest, type Manifest } from '../../shared/format/manifest.js';
import { fsyncDir } from '../../shared/fs/atomic-file.js';
import type { Logger } from '../../shared/log.js';
import type { RestoreResult } from '../../shared/messages/results.js';
import type { BlockStore } from '../ports/block-store.js';

export interface RestoreJobInput {
  readonly backupId: string;
  readonly vm: string;
  readonly targetDir: string;
}

export interface RestoreJobDeps {
  readonly store: BlockStore;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  progress(phase: string, doneBytes: number, totalBytes: number): void;
}

export interface RestoreTuning {
  /** Most distinct digests per GetChunks call. */
  readonly getChunksBatch: number;
}

export const defaultRestoreTuning: RestoreTuning = { getChunksBatch: 64 };

interface PlannedDisk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly path: string;
  readonly index: FixedIndex;
}

interface Progress {
  doneBytes: number;
  readonly totalBytes: number;
  bytesWritten: number;
  chunksFetched: number;
}

/** Restores one backup; refuses to overwrite an existing disk image. */
export async function runRestore(
  input: RestoreJobInput,
  deps: RestoreJobDeps,
  tuning: RestoreTuning = defaultRestoreTuning,
): Promise<RestoreResult> {
  const { store, clock } = deps;
  const log = deps.log.child({ backupId: input.backupId, vm: input.vm });
  const startMs = clock.nowMs();
  const info = await store.info();
  const manifest = await fetchManifest(store, input);
  const disks: PlannedDisk[] = [];
  for (const disk of manifest.disks) {
    const path = join(input.targetDir, `${disk.name}.img`);
    if (await exists(path)) throw new PreconditionError(`${path} already exists; refusing to overwrite it`, { path });
    disks.push({ name: disk.name, sizeBytes: disk.sizeBytes, path, index: await fetchIndex(store, manifest, disk.name) });
  }
  await mkdir(input.targetDir, { recursive: true });
  log.info({ disks: disks.length, targetDir: input.targetDir }, 'restore started');

  const progress: Progress = {
    doneBytes: 0,
    totalBytes: disks.reduce((sum, d) => sum + d.sizeBytes, 0),
    bytesWritten: 0,
    chunksFetched: 0,
  };
  for (const disk of disks) await restoreDisk(disk, progress, deps, tuning);
  await fsyncDir(input.targetDir);

  const durationMs = clock.nowMs() - startMs;
  log.info({ bytesWritten: progress.bytesWritten, chunksFetched: progress.chunksFetched, durationMs }, 'restore finished');
  return {
    backupId: manifest.backupId,
    site: info.site,
    targetDir: input.targetDir,
    disks: disks.map((d) => ({ name: d.name, path: d.path, sizeBytes: d.sizeBytes })),
    bytesWritten: progress.bytesWritten,
    chunksFetched: progress.chunksFetched,
    durationMs,
  };
}

async function fetchManifest(store: BlockStore, input: RestoreJobInput): Promise<Manifest> {
  const what = `manifest of backup ${input.backupId}`;
  const manifest = decodeManifest(await store.getManifest(input.backupId), what);
  if (manifest.backupId !== input.backupId) throw new CorruptDataError(what, `names backup ${manifest.backupId}`);
  if (manifest.vm !== input.vm) {
    throw new PreconditionError(`backup ${input.backupId} is of VM ${manifest.vm}, not ${input.vm}`, {
      backupId: input.backupId,
      vm: manifest.vm,
    });
  }
  return manifest;
}

async function fetchIndex(store: BlockStore, manifest: Manifest, diskName: string): Promise<FixedIndex> {
  const what = `index of disk ${diskName} of backup ${manifest.backupId}`;
  const disk = manifest.disks.find((d) => d.name === diskName);
  const file = await store.getIndex(manifest.backupId, diskName);
  if (!disk || fixedIndexFileSha256(file) !== disk.indexSha256) {
    throw new CorruptDataError(what, 'its SHA-256 does not match the manifest');
  }
  const index = decodeFixedIndex(file, what);
  if (index.diskSizeBytes !== disk.sizeBytes || index.chunkSizeBytes !== manifest.chunkSizeBytes) {
    throw new CorruptDataError(what, 'disk or chunk size differs from the manifest');
  }
  return index;
}

async function restoreDisk(disk: PlannedDisk, progress: Progress, deps: RestoreJobDeps, tuning: RestoreTuning): Promise<void> {
  const partial = `${disk.path}.partial`;
  const handle = await open(partial, 'w', 0o640);
  try {
    await handle.truncate(disk.sizeBytes);
    const { index } = disk;
    const chunkSize = index.chunkSizeBytes;
    const lengthAt = (i: number) => Math.min(chunkSize, disk.sizeBytes - i * chunkSize);
    // digest (latin1 key) -> the chunk positions that use it, for one batch of distinct digests.
    let batch = new Map<string, { digest: Buffer; positions: number[] }>();
    const fetchBatch = async () => {
      if (batch.size === 0) return;
      const wanted = batch;
      batch = new Map();
      for await (const { digest, blob } of deps.store.getChunks([...wanted.values()].map((w) => w.digest))) {
        const key = digest.toString('latin1');
        const entry = wanted.get(key);
        if (!entry) throw new CorruptDataError(`chunk ${digestHex(digest)}`, 'sent by storage but not requested');
        wanted.delete(key);
        const plaintext = decodeBlobChecked(blob, entry.digest);
        progress.chunksFetched++;
        for (const i of entry.positions) {
          if (plaintext.length !== lengthAt(i)) {
            throw new CorruptDataError(`chunk ${digestHex(digest)}`, `is ${plaintext.length} bytes, position ${i} needs ${lengthAt(i)}`);
          }
          await writeSparse(handle, plaintext, i * chunkSize);
          progress.bytesWritten += plaintext.length;
        }
      }
      if (wanted.size > 0) {
        throw new ChunkMissingError([...wanted.values()].map((w) => digestHex(w.digest)), { disk: disk.name });
      }
    };
    for (let i = 0; i < index.chunkCount; i++) {
      if (deps.signal?.aborted) throw new CancelledError('restore cancelled');
      const digest = digestAt(index, i);
      if (!isZeroDigest(digest)) {
        const key = digest.toString('latin1');
        const entry = batch.get(key);
        if (entry) entry.positions.push(i);
        else batch.set(key, { digest: Buffer.from(digest), positions: [i] });
        if (batch.size >= tuning.getChunksBatch) await fetchBatch();
      }
      progress.doneBytes += lengthAt(i);
      // The final report waits until the data is written (below).
      if (progress.doneBytes < progress.totalBytes) deps.progress('restore', progress.doneBytes, progress.totalBytes);
    }
    await fetchBatch();
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, disk.path);
  deps.progress('restore', progress.doneBytes, progress.totalBytes);
}

/** Filesystem block size for holes: zero blocks of a chunk stay unallocated in the new file. */
const HOLE_BLOCK_BYTES = 4096;

/**
 * Writes a chunk into the freshly truncated file, skipping its all-zero 4 KiB blocks so they stay
 * holes (a chunk is often only partly used by the guest); runs of data are written in one call.
 */
async function writeSparse(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let runStart = -1;
  for (let off = 0; off < data.length; off += HOLE_BLOCK_BYTES) {
    const zero = isZeroChunk(data.subarray(off, off + HOLE_BLOCK_BYTES));
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) {
      await writeFully(handle, data.subarray(runStart, off), position + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await writeFully(handle, data.subarray(runStart), position + runStart);
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
