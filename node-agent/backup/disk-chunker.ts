/** The length of chunk `index` of a disk of `sizeBytes` (fixed-size, disk-aligned; the last may be short). */
export function chunkLengthAt(sizeBytes: number, chunkSizeBytes: number, index: number): number {
  return Math.min(chunkSizeBytes, sizeBytes - index * chunkSizeBytes);
}
