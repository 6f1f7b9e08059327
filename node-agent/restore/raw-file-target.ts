/** A raw sparse image file as a restore target: truncated to size (all holes), written in place. */
import { open, type FileHandle } from 'node:fs/promises';
import { PreconditionError } from '../../shared/errors.js';
import type { DiskFormat, DiskTarget, DiskTargets } from '../ports/disk-target.js';

class RawFileTarget implements DiskTarget {
  private closed = false;

  constructor(private readonly handle: FileHandle) {}

  async write(data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  flush(): Promise<void> {
    return this.handle.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** Creates raw images only; a qcow2 restore needs the agent's qemu adapter. */
export const rawFileTargets: DiskTargets = {
  async create(path: string, format: DiskFormat, sizeBytes: number): Promise<DiskTarget> {
    if (format !== 'raw') throw new PreconditionError(`this agent cannot write ${format} images`, { format });
    // 'w': a .partial left by a crashed attempt is overwritten.
    const handle = await open(path, 'w', 0o640);
    try {
      await handle.truncate(sizeBytes);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new RawFileTarget(handle);
  },
};
