import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a directory entry durable (a rename or a new file in it). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file atomically: into `tmpDir` (same filesystem), fsync, rename over `path`, fsync the
 * directory. A crash leaves either the old file or the new one, never a torn one; at worst a
 * stray temp file that startup cleans.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  options: { tmpDir?: string; syncDir?: boolean; mode?: number } = {},
): Promise<void> {
  const tmpDir = options.tmpDir ?? dirname(path);
  const tmp = join(tmpDir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', options.mode ?? 0o640);
  try {
    const parts = data instanceof Uint8Array ? [data] : data;
    for (const part of parts) {
      let offset = 0;
      while (offset < part.length) {
        const { bytesWritten } = await handle.write(part, offset, part.length - offset);
        offset += bytesWritten;
      }
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (options.syncDir !== false) await fsyncDir(dirname(path));
}
