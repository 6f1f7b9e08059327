/**
 * Where a restore writes a disk: a new image file in a format the hypervisor runs. `raw` is a
 * sparse file; `qcow2` is a QEMU image (unallocated clusters for zeros) written through a local
 * NBD export of it. The restore writes only non-zero data, so what it skips stays a hole.
 */

/** Image formats a restore can write. */
export const DISK_FORMATS = ['raw', 'qcow2'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** An image being written. */
export interface DiskTarget {
  /** Writes `data` at `position` (within the disk). */
  write(data: Buffer, position: number): Promise<void>;
  /** Makes everything written durable. */
  flush(): Promise<void>;
  /** Releases the image (after flush, or to give up). Idempotent. */
  close(): Promise<void>;
}

/** Creates images. */
export interface DiskTargets {
  /** A new image of `sizeBytes` at `path` (which must not exist), reading as zeros everywhere. */
  create(path: string, format: DiskFormat, sizeBytes: number): Promise<DiskTarget>;
}
