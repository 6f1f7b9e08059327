/**
 * Which backups, disks and byte ranges use given chunks: one pass over every committed
 * backup's indexes for a whole batch of digests (a repair record or an alert names them).
 * Consecutive chunk positions of one disk merge into one range; the last chunk of a disk is
 * as long as the disk's remainder.
 */
import { DIGEST_BYTES } from '../../shared/format/chunk-digest.js';
import { decodeFixedIndex } from '../../shared/format/fixed-index.js';
import type { Manifest } from '../../shared/format/manifest.js';
import type { AffectedRange } from '../../shared/messages/events.js';
import type { Datastore } from '../datastore/datastore.js';

/** For each digest (hex) asked for, the ranges that use it (empty when none does). */
export async function affectedRanges(datastore: Datastore, hexes: ReadonlySet<string>): Promise<Map<string, AffectedRange[]>> {
  const out = new Map<string, AffectedRange[]>();
  for (const hex of hexes) out.set(hex, []);
  if (hexes.size === 0) return out;
  for (const manifest of datastore.catalog.list()) {
    for (const disk of manifest.disks) {
      let file: Buffer;
      try {
        file = await datastore.readIndexFile(manifest.backupId, disk.name);
      } catch {
        continue; // A damaged or missing index is reported by itself.
      }
      let index;
      try {
        index = decodeFixedIndex(file);
      } catch {
        continue;
      }
      for (let i = 0; i < index.chunkCount; i++) {
        const hex = index.digests.toString('hex', i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
        const ranges = out.get(hex);
        if (ranges) addPosition(ranges, manifest, disk.name, disk.sizeBytes, i);
      }
    }
  }
  return out;
}

/** Every byte of every disk of a backup: what a damaged manifest or index takes away. */
export function wholeDisks(manifest: Pick<Manifest, 'backupId' | 'vm' | 'disks'>, onlyDisk?: string): AffectedRange[] {
  return manifest.disks
    .filter((d) => onlyDisk === undefined || d.name === onlyDisk)
    .map((d) => ({ backupId: manifest.backupId, vm: manifest.vm, disk: d.name, offsetBytes: 0, lengthBytes: d.sizeBytes }));
}

function addPosition(ranges: AffectedRange[], manifest: Manifest, disk: string, diskBytes: number, position: number): void {
  const offsetBytes = position * manifest.chunkSizeBytes;
  const lengthBytes = Math.max(0, Math.min(manifest.chunkSizeBytes, diskBytes - offsetBytes));
  const last = ranges[ranges.length - 1];
  if (last && last.backupId === manifest.backupId && last.disk === disk && last.offsetBytes + last.lengthBytes === offsetBytes) {
    ranges[ranges.length - 1] = { ...last, lengthBytes: last.lengthBytes + lengthBytes };
    return;
  }
  ranges.push({ backupId: manifest.backupId, vm: manifest.vm, disk, offsetBytes, lengthBytes });
}

/** "vm1 disk0 [0, 1 MiB) in backup X; ..." for an alert's one line, at most `max` ranges. */
export function describeRanges(ranges: readonly AffectedRange[], max = 5): string {
  if (ranges.length === 0) return 'no committed backup uses it';
  const parts = ranges.slice(0, max).map((r) => `VM ${r.vm} disk ${r.disk} bytes ${r.offsetBytes}-${r.offsetBytes + r.lengthBytes} of backup ${r.backupId}`);
  const more = ranges.length > max ? ` and ${ranges.length - max} more range(s)` : '';
  return `${parts.join('; ')}${more}`;
}
