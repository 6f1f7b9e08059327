/**
 * The hypervisor driver port (DESIGN.md §6). A driver lists its VMs and opens a point-in-time
 * backup view of one VM's disks. For `files` the view is the image files as they are; for QEMU
 * (later) it is a fleecing export with dirty bitmaps, and `finish(success)` drops or merges the
 * frozen bitmap, so a failed backup never loses a change. Restore writes plain sparse files for
 * now (node-agent/restore/); creating disks on a hypervisor comes with the QEMU driver.
 */
import type { VmInventory } from '../../shared/messages/events.js';

export type { VmInventory };

/** How a disk's changes since the last backup are found: 'hash' reads and hashes everything. */
export type ChangeTracking = 'hash';

/** One disk of a backup view. */
export interface BackupDisk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly changeTracking: ChangeTracking;
  /** Reads exactly `length` bytes at `offset` (within the disk). */
  read(offset: number, length: number): Promise<Buffer>;
  /** Fills `target` with the bytes at `offset`, when the driver can (the backup reuses its buffers). */
  readInto?(target: Buffer, offset: number): Promise<void>;
}

/** A consistent view of a VM's disks for the time of one backup. */
export interface BackupView {
  readonly vm: string;
  readonly disks: readonly BackupDisk[];
  /** Ends the view: success keeps the new checkpoint, failure keeps every change for the next run. */
  finish(success: boolean): Promise<void>;
}

export interface HypervisorDriver {
  /** The driver kind ('files', later 'qemu'). */
  readonly kind: string;
  /** The VMs and their disks, with current sizes. */
  inventory(): Promise<VmInventory[]>;
  /** Opens a backup view of one VM; NotFoundError for an unknown VM or a missing disk. */
  openBackupView(vm: string): Promise<BackupView>;
}
