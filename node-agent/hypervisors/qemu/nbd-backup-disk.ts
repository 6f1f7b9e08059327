/**
 * A disk of a backup view read over NBD, shared by the drivers whose views are NBD exports
 * (`qemu`: fleecing exports; `libvirt`: pull-mode backup exports). Reads go to the export;
 * allocatedExtents() is base:allocation minus holes and ranges flagged ZERO; dirtyExtents() is
 * the exported bitmap's DIRTY ranges, offered only when the export carries one. Adjacent ranges
 * are merged. `guard` (optional) runs before and after every read and before a walk, for a driver
 * that must notice its export ending under it; `readError` wraps a failure with the VM and disk.
 */
import type { Logger } from 'pino';
import type { BackupDisk, DiskExtent } from '../hypervisor.js';
import type { NbdClient } from './nbd-client.js';
import { BASE_ALLOCATION, dirtyBitmapContext, isDirty, isHole, isZero } from './nbd-protocol.js';

export interface NbdBackupDiskOptions {
  readonly name: string;
  readonly sizeBytes: number;
  readonly client: NbdClient;
  /** The export's dirty bitmap (its meta context was negotiated), or null. */
  readonly dirtyBitmap: string | null;
  /** The error for a failed read or block-status walk (`what` names the operation). */
  readonly readError: (what: string, cause: unknown) => Error;
  /** Throws when the export can no longer be trusted. */
  readonly guard?: () => void;
}

/** The BackupDisk of one NBD export. */
export function nbdBackupDisk(options: NbdBackupDiskOptions): BackupDisk {
  const { client, readError } = options;
  const guard = options.guard ?? (() => undefined);
  const readInto = async (target: Buffer, offset: number): Promise<void> => {
    guard();
    try {
      await client.readInto(target, offset);
    } catch (err) {
      throw readError(`read of ${target.length} bytes at ${offset}`, err);
    }
    // A reply that raced the export's end may hold data from after the instant.
    guard();
  };
  const extents = (context: string, keep: (flags: number) => boolean): AsyncIterable<DiskExtent> => ({
    [Symbol.asyncIterator]: () => walk(client, context, keep, guard, readError),
  });
  const base = {
    name: options.name,
    sizeBytes: options.sizeBytes,
    read: async (offset: number, length: number) => {
      const target = Buffer.allocUnsafe(length);
      await readInto(target, offset);
      return target;
    },
    readInto,
    allocatedExtents: () => extents(BASE_ALLOCATION, (flags) => !isHole(flags) && !isZero(flags)),
  };
  const bitmap = options.dirtyBitmap;
  if (bitmap === null) return { ...base, changeTracking: 'hash' };
  return { ...base, changeTracking: 'dirty-bitmap', dirtyExtents: () => extents(dirtyBitmapContext(bitmap), isDirty) };
}

/** The ranges of one meta context whose flags pass `keep`, adjacent ones merged. */
async function* walk(
  client: NbdClient,
  context: string,
  keep: (flags: number) => boolean,
  guard: () => void,
  readError: (what: string, cause: unknown) => Error,
): AsyncGenerator<DiskExtent, void, undefined> {
  guard();
  let run: { offset: number; length: number } | undefined;
  try {
    for await (const e of client.extents(context)) {
      if (!keep(e.flags)) continue;
      if (run && run.offset + run.length === e.offset) {
        run.length += e.length;
        continue;
      }
      if (run) yield run;
      run = { offset: e.offset, length: e.length };
    }
  } catch (err) {
    throw readError(`block status of ${context}`, err);
  }
  if (run) yield run;
}

/** Disconnects a view's NBD clients (destroying any that fail to say goodbye); never throws. */
export async function disconnectAll(clients: readonly NbdClient[], log: Logger): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      try {
        await c.disconnect();
      } catch (err) {
        log.warn({ err }, 'NBD disconnect failed');
        c.destroy();
      }
    }),
  );
}
