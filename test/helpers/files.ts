import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** SHA-256 hex of a whole file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every chunk blob file of a datastore, sorted by path. */
export function chunkFiles(datastoreDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/^[0-9a-f]{64}$/.test(entry.name)) out.push(p);
    }
  };
  walk(join(datastoreDir, 'chunks'));
  return out.sort();
}

/** Bytes a file really occupies on disk (sparse files occupy less than their size). */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}
