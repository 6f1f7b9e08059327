/** In-memory BackupDisks for the agent's tests. */
import type { BackupDisk } from '../hypervisors/hypervisor.js';

/** A disk whose bytes are `data`; `failAt` makes reads at or past that offset fail. */
export function bufferDisk(name: string, data: Buffer, failAt?: number): BackupDisk & { reads: number } {
  const disk = {
    name,
    sizeBytes: data.length,
    changeTracking: 'hash' as const,
    reads: 0,
    read(offset: number, length: number): Promise<Buffer> {
      const buf = Buffer.alloc(length);
      return disk.readInto(buf, offset).then(() => buf);
    },
    readInto(target: Buffer, offset: number): Promise<void> {
      disk.reads++;
      if (failAt !== undefined && offset >= failAt) return Promise.reject(new Error('read failed'));
      data.copy(target, 0, offset, offset + target.length);
      return Promise.resolve();
    },
  };
  return disk;
}

/**
 * A disk of `sizeBytes` whose every `chunkSizeBytes` chunk is distinct non-zero data, made on the
 * fly (nothing held): for memory bounds on disks larger than a test should allocate.
 */
export function generatedDisk(name: string, sizeBytes: number, chunkSizeBytes: number): BackupDisk {
  const pattern = Buffer.alloc(chunkSizeBytes);
  for (let i = 0; i + 4 <= pattern.length; i += 4) pattern.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fill = (target: Buffer, offset: number) => {
    pattern.copy(target, 0, 0, target.length);
    target.writeDoubleLE(offset, 0);
  };
  return {
    name,
    sizeBytes,
    changeTracking: 'hash',
    read: (offset, length) => {
      const buf = Buffer.alloc(length);
      fill(buf, offset);
      return Promise.resolve(buf);
    },
  };
}
