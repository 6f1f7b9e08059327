/**
 * The restore job: writes a backup's disks into a target directory as sparse raw images or qcow2
 * images (ports/disk-target.ts), or, for a deep verify (`verifyOnly`), reads and checks
 * everything the same way and writes nothing.
 *
 * Everything is checked before a byte is written: the datastore's key is the agent's (else a
 * PreconditionError naming both fingerprints), the manifest (self-checking, it must name the
 * requested backup and VM, and, when the agent holds the key, carry the writer's content HMAC),
 * each disk's index (its file SHA-256 must equal the manifest's), and that no `<disk>.img` exists
 * yet. Each disk is written to `<disk>.img.partial` (`.qcow2.partial`): created empty (all holes), then
 * every non-zero chunk is fetched with GetChunks in batches (each distinct digest once per batch,
 * several batches in flight), decoded and checked by the chunk processor (decrypt, digest) and
 * written at every offset that uses it, its zero 4 KiB blocks left as holes. Only when every disk
 * is complete and fsynced are the files renamed to `<disk>.img`, `vm.json` written beside them
 * (the disks, the backup's consistency and the VM's definition when the manifest has one, to
 * rebuild the VM from) and the directory fsynced; a
 * failure removes the partial files. A crash leaves `.partial` files (overwritten by the next
 * attempt), never a torn `.img`. Memory: at most `maxInFlightBytes` of fetched chunks per disk.
 */
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CancelledError, ChunkMissingError, CorruptDataError, PreconditionError } from '../../shared/errors.js';
import { digestHex, isZeroChunk, isZeroDigest } from '../../shared/format/chunk-digest.js';
import { digestAt, type FixedIndex } from '../../shared/format/fixed-index.js';
import { decodeManifest, type Manifest } from '../../shared/format/manifest.js';
import { fsyncDir, writeFileAtomic } from '../../shared/fs/atomic-file.js';
import type { RestoreResult } from '../../shared/messages/results.js';
import { Semaphore } from '../backup/semaphore.js';
import { fetchCheckedIndex } from '../backup/stored-index.js';
import { TaskGroup } from '../backup/task-group.js';
import { requireDatastoreKey, requireSignedManifest } from '../encryption/datastore-key.js';
import type { BlockStore } from '../ports/block-store.js';
import type { ChunkProcessor } from '../ports/chunk-processor.js';
import type { DataPathDeps } from '../ports/data-path-deps.js';
import type { DiskFormat, DiskTarget, DiskTargets } from '../ports/disk-target.js';
import type { StartedVm, VmLauncher } from '../ports/vm-launcher.js';
import { rawFileTargets } from './raw-file-target.js';

export interface RestoreJobInput {
  readonly backupId: string;
  readonly vm: string;
  /** Ignored when `verifyOnly`. */
  readonly targetDir: string;
  /** Read and check everything, write nothing. */
  readonly verifyOnly?: boolean;
  /** The image format of the restored disks (default raw: `<disk>.img`; qcow2: `<disk>.qcow2`). */
  readonly format?: DiskFormat;
  /** Start the VM on the restored disks once they are complete (needs a VM definition in the backup). */
  readonly start?: boolean;
}

export interface RestoreJobDeps extends DataPathDeps {
  /** Creates the images; default: raw files only. */
  readonly diskTargets?: DiskTargets;
  /** Starts a VM on restored disks (restores with `start`). */
  readonly vmLauncher?: VmLauncher;
}

export interface RestoreTuning {
  /** Most distinct digests per GetChunks call. */
  readonly getChunksBatch: number;
  /** Most GetChunks calls at once. */
  readonly getChunksInFlight: number;
  /** Most fetched chunk bytes held (decoding or being written) at once. */
  readonly maxInFlightBytes: number;
}

export const defaultRestoreTuning: RestoreTuning = { getChunksBatch: 32, getChunksInFlight: 3, maxInFlightBytes: 24 * 1024 * 1024 };

interface PlannedDisk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly path: string;
  readonly index: FixedIndex;
}

interface RestoreRun {
  readonly deps: RestoreJobDeps;
  readonly tuning: RestoreTuning;
  readonly processor: ChunkProcessor;
  readonly verifyOnly: boolean;
  readonly format: DiskFormat;
  readonly targets: DiskTargets;
  /** Verify only: the plaintext length of each digest already checked, so it is fetched once per job. */
  readonly verified: Map<string, number>;
  /** Partial files created so far (removed on failure). */
  readonly partials: string[];
  doneBytes: number;
  readonly totalBytes: number;
  bytesWritten: number;
  chunksFetched: number;
}

/** Restores (or verifies) one backup; refuses to overwrite an existing disk image. */
export async function runRestore(
  input: RestoreJobInput,
  deps: RestoreJobDeps,
  tuning: RestoreTuning = defaultRestoreTuning,
): Promise<RestoreResult> {
  const { store, clock } = deps;
  const verifyOnly = input.verifyOnly ?? false;
  const format = input.format ?? 'raw';
  const log = deps.log.child({ backupId: input.backupId, vm: input.vm, verifyOnly });
  const startMs = clock.nowMs();
  const info = await store.info();
  requireDatastoreKey(info, deps.keys);
  const manifest = await fetchManifest(store, input);
  if (deps.keys) requireSignedManifest(manifest, deps.keys);
  const disks: PlannedDisk[] = [];
  for (const disk of manifest.disks) {
    const path = join(input.targetDir, `${disk.name}.${format === 'raw' ? 'img' : format}`);
    if (!verifyOnly && (await exists(path))) throw new PreconditionError(`${path} already exists; refusing to overwrite it`, { path });
    disks.push({ name: disk.name, sizeBytes: disk.sizeBytes, path, index: await fetchCheckedIndex(store, manifest, disk.name) });
  }
  const launcher = input.start && !verifyOnly ? deps.vmLauncher : undefined;
  if (input.start && !verifyOnly) {
    if (!launcher) throw new PreconditionError('this agent cannot start VMs; restore without start');
    if (!manifest.vmDefinition) throw new PreconditionError(`backup ${manifest.backupId} has no VM definition to start the VM from`, { backupId: manifest.backupId });
  }
  if (!verifyOnly) await mkdir(input.targetDir, { recursive: true });
  log.info({ disks: disks.length, targetDir: verifyOnly ? null : input.targetDir }, verifyOnly ? 'verify with the key started' : 'restore started');

  const run: RestoreRun = {
    deps,
    tuning,
    processor: deps.openProcessor(deps.keys, { chunkSizeBytes: manifest.chunkSizeBytes }),
    verifyOnly,
    format,
    targets: deps.diskTargets ?? rawFileTargets,
    verified: new Map(),
    partials: [],
    doneBytes: 0,
    totalBytes: disks.reduce((sum, d) => sum + d.sizeBytes, 0),
    bytesWritten: 0,
    chunksFetched: 0,
  };
  try {
    for (const disk of disks) await restoreDisk(disk, run);
    if (!verifyOnly) {
      for (const disk of disks) await rename(`${disk.path}.partial`, disk.path);
      await writeFileAtomic(join(input.targetDir, VM_FILE), Buffer.from(`${JSON.stringify(vmFileOf(manifest, disks, format), null, 2)}\n`));
      await fsyncDir(input.targetDir);
    }
  } catch (err) {
    await Promise.all(run.partials.map((p) => rm(p, { force: true }).catch(() => undefined)));
    throw err;
  } finally {
    await run.processor.close();
  }
  deps.progress(verifyOnly ? 'verify' : 'restore', run.totalBytes, run.totalBytes);

  let started: StartedVm | null = null;
  if (launcher && manifest.vmDefinition) {
    started = await launcher.start({
      vm: manifest.vm,
      dir: input.targetDir,
      definition: manifest.vmDefinition,
      disks: disks.map((d) => ({ name: d.name, path: d.path, format })),
    });
    log.info({ pid: started.pid, qmpSocket: started.qmpSocket }, 'restored VM started');
  }
  const durationMs = clock.nowMs() - startMs;
  log.info({ bytesWritten: run.bytesWritten, chunksFetched: run.chunksFetched, durationMs }, verifyOnly ? 'verify with the key finished' : 'restore finished');
  return {
    backupId: manifest.backupId,
    verifyOnly,
    site: info.site,
    targetDir: verifyOnly ? '' : input.targetDir,
    disks: verifyOnly ? [] : disks.map((d) => ({ name: d.name, path: d.path, sizeBytes: d.sizeBytes })),
    bytesWritten: run.bytesWritten,
    chunksFetched: run.chunksFetched,
    durationMs,
    started: started ? { ...started, command: [...started.command] } : null,
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

/** The distinct digests of one GetChunks call and the chunk positions that use each. */
type Batch = Map<string, { digest: Buffer; positions: number[] }>;

async function restoreDisk(disk: PlannedDisk, run: RestoreRun): Promise<void> {
  const { deps, tuning } = run;
  const { index } = disk;
  const chunkSize = index.chunkSizeBytes;
  const lengthAt = (i: number) => Math.min(chunkSize, disk.sizeBytes - i * chunkSize);
  const phase = run.verifyOnly ? 'verify' : 'restore';
  let target: DiskTarget | undefined;
  if (!run.verifyOnly) {
    const partial = `${disk.path}.partial`;
    run.partials.push(partial);
    target = await run.targets.create(partial, run.format, disk.sizeBytes);
  }
  try {
    const budget = new Semaphore(Math.max(tuning.maxInFlightBytes, 2 * chunkSize));
    const calls = new Semaphore(Math.max(1, tuning.getChunksInFlight));
    const tasks = new TaskGroup((err) => {
      budget.fail(err);
      calls.fail(err);
    });

    const write = async (entry: { digest: Buffer; positions: number[] }, blob: Buffer): Promise<void> => {
      let plaintext: Buffer | undefined;
      try {
        plaintext = await run.processor.decode(blob, entry.digest);
        run.chunksFetched++;
        if (run.verifyOnly) run.verified.set(entry.digest.toString('latin1'), plaintext.length);
        for (const i of entry.positions) {
          if (plaintext.length !== lengthAt(i)) {
            throw new CorruptDataError(`chunk ${digestHex(entry.digest)}`, `is ${plaintext.length} bytes, position ${i} needs ${lengthAt(i)}`);
          }
          if (target) {
            await writeSparse(target, plaintext, i * chunkSize);
            run.bytesWritten += plaintext.length;
          }
        }
      } finally {
        if (plaintext) run.processor.recycle(plaintext);
        budget.release(chunkSize);
      }
    };

    const fetch = async (wanted: Batch): Promise<void> => {
      try {
        for await (const { digest, blob } of deps.store.getChunks([...wanted.values()].map((w) => w.digest))) {
          const key = digest.toString('latin1');
          const entry = wanted.get(key);
          if (!entry) throw new CorruptDataError(`chunk ${digestHex(digest)}`, 'sent by storage but not requested');
          wanted.delete(key);
          await budget.acquire(chunkSize);
          tasks.spawn(() => write(entry, blob));
        }
        if (wanted.size > 0) {
          throw new ChunkMissingError([...wanted.values()].map((w) => digestHex(w.digest)), { disk: disk.name });
        }
      } finally {
        calls.release();
      }
    };

    let batch: Batch = new Map();
    const dispatch = async (): Promise<void> => {
      if (batch.size === 0) return;
      const wanted = batch;
      batch = new Map();
      await calls.acquire();
      tasks.spawn(() => fetch(wanted));
    };
    try {
      for (let i = 0; i < index.chunkCount; i++) {
        if (deps.signal?.aborted) throw new CancelledError(`${phase} cancelled`);
        if (tasks.failure) throw tasks.failure;
        const digest = digestAt(index, i);
        run.doneBytes += lengthAt(i);
        if (isZeroDigest(digest)) continue;
        const key = digest.toString('latin1');
        const checkedLength = run.verified.get(key);
        if (checkedLength !== undefined) {
          if (checkedLength !== lengthAt(i)) {
            throw new CorruptDataError(`chunk ${digestHex(digest)}`, `is ${checkedLength} bytes, position ${i} needs ${lengthAt(i)}`);
          }
          continue;
        }
        const entry = batch.get(key);
        if (entry) entry.positions.push(i);
        else batch.set(key, { digest: Buffer.from(digest), positions: [i] });
        if (batch.size >= tuning.getChunksBatch) await dispatch();
        // The final report waits until everything is written.
        if (run.doneBytes < run.totalBytes) deps.progress(phase, run.doneBytes, run.totalBytes);
      }
      await dispatch();
    } catch (err) {
      tasks.fail(err);
    }
    await tasks.settled();
    if (tasks.failure) throw tasks.failure;
    await target?.flush();
  } finally {
    await target?.close();
  }
}

/** Beside the disks: what was restored and the VM's definition, to rebuild the VM from. */
const VM_FILE = 'vm.json';

function vmFileOf(manifest: Manifest, disks: readonly PlannedDisk[], format: DiskFormat): Record<string, unknown> {
  return {
    vm: manifest.vm,
    backupId: manifest.backupId,
    backedUpAt: manifest.createdAt,
    consistency: manifest.consistency ?? { level: 'crash', note: null },
    hypervisor: manifest.vmDefinition?.hypervisor ?? null,
    definition: manifest.vmDefinition?.definition ?? null,
    disks: disks.map((d) => ({ name: d.name, file: basename(d.path), format, sizeBytes: d.sizeBytes })),
  };
}

/** Filesystem block size for holes: zero blocks of a chunk stay unallocated in the new file. */
const HOLE_BLOCK_BYTES = 4096;

/**
 * Writes a chunk into the freshly truncated file, skipping its all-zero 4 KiB blocks so they stay
 * holes (a chunk is often only partly used by the guest); runs of data are written in one call.
 */
async function writeSparse(target: DiskTarget, data: Buffer, position: number): Promise<void> {
  let runStart = -1;
  for (let off = 0; off < data.length; off += HOLE_BLOCK_BYTES) {
    const zero = isZeroChunk(data.subarray(off, off + HOLE_BLOCK_BYTES));
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) {
      await target.write(data.subarray(runStart, off), position + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await target.write(data.subarray(runStart), position + runStart);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
