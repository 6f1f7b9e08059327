/**
 * Reading a backup's fixed index back from the store, checked against its manifest (the index
 * file's SHA-256, disk and chunk size), for a restore or as the base of a dirty-bitmap
 * incremental.
 */
import type { BlockStore } from '../ports/block-store.js';
import { CorruptDataError } from '../../shared/errors.js';
import { decodeFixedIndex, fixedIndexFileSha256, type FixedIndex } from '../../shared/format/fixed-index.js';
import type { Manifest } from '../../shared/format/manifest.js';

/** The index of `diskName` in the backup of `manifest`; CorruptDataError when it does not match the manifest. */
export async function fetchCheckedIndex(store: BlockStore, manifest: Manifest, diskName: string): Promise<FixedIndex> {
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
