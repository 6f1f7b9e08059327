/**
 * The size of a filesystem chunk store (chunks/ab/cd/<64 hex>): the sum of the blob files'
 * sizes and their count, by walking the tree. A walk of a large store takes a while, so the
 * metrics endpoint runs it in the background at an interval, never per scrape.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const HEX64 = /^[0-9a-f]{64}$/;

/** What a chunk store holds. */
export interface ChunkStoreUsage {
  readonly chunks: number;
  readonly bytes: number;
}

/** Walks `chunksDir`; files that vanish mid-walk (gc, quarantine) are skipped. */
export async function measureChunkStore(chunksDir: string): Promise<ChunkStoreUsage> {
  let chunks = 0;
  let bytes = 0;
  for (const a of await readdir(chunksDir).catch(() => [])) {
    for (const b of await readdir(join(chunksDir, a)).catch(() => [])) {
      const leaf = join(chunksDir, a, b);
      const names = (await readdir(leaf).catch(() => [])).filter((n) => HEX64.test(n));
      const sizes = await Promise.all(names.map((n) => stat(join(leaf, n)).then((s) => s.size, () => undefined)));
      for (const size of sizes) {
        if (size === undefined) continue;
        chunks++;
        bytes += size;
      }
    }
  }
  return { chunks, bytes };
}
