/**
 * The hypervisor driver port (DESIGN.md §6). A driver lists its VMs and opens a point-in-time
 * backup view of one VM's disks. For `files` the view is the image files as they are; for `qemu`
 * it is a fleecing export per disk over NBD, taken at one instant for all disks, with the dirty
 * bitmaps of a checkpoint.
 *
 * Checkpoints: a driver with change tracking starts a new checkpoint with every view (QEMU: a new
 * persistent dirty bitmap per disk, named after it); the backup records `view.checkpoint` in its
 * manifest. The next view reports the checkpoint its dirty extents are relative to
 * (`baseCheckpoint`): when the newest backup of the VM recorded that checkpoint, an incremental
 * reads only the dirty extents and takes every other chunk from that backup's index. Otherwise
 * the backup reads everything allocated, and says why (`fullReason`). `finish(success)` keeps the
 * new checkpoint on success; on failure it folds the new checkpoint's changes back into the base
 * one, so no change is ever lost.
 */
import type { VmInventory } from '../../shared/messages/events.js';
import type { IncompleteSnapshot, VmSnapshot } from '../../shared/messages/results.js';

export type { IncompleteSnapshot, VmInventory, VmSnapshot };

/**
 * How a disk's changes since the last backup are found: 'hash' reads and hashes everything;
 * 'dirty-bitmap' reads only what the hypervisor recorded as written since the base checkpoint.
 */
export type ChangeTracking = 'hash' | 'dirty-bitmap';

/** A byte range of a disk. */
export interface DiskExtent {
  readonly offset: number;
  readonly length: number;
}

/** One disk of a backup view. */
export interface BackupDisk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly changeTracking: ChangeTracking;
  /** Reads exactly `length` bytes at `offset` (within the disk). */
  read(offset: number, length: number): Promise<Buffer>;
  /** Fills `target` with the bytes at `offset`, when the driver can (the backup reuses its buffers). */
  readInto?(target: Buffer, offset: number): Promise<void>;
  /**
   * The ranges that may hold data, sorted, not overlapping; everything else reads as zeros and is
   * never read. Absent: the whole disk may hold data.
   */
  allocatedExtents?(): AsyncIterable<DiskExtent>;
  /**
   * The ranges written since the view's `baseCheckpoint`, sorted, not overlapping. Present only
   * when the view has a base checkpoint.
   */
  dirtyExtents?(): AsyncIterable<DiskExtent>;
}

/** What a view's instant is consistent with. */
export interface ViewConsistency {
  /** 'crash': as after a power cut; 'application': the guest (filesystems, applications) quiesced for the instant. */
  readonly level: 'crash' | 'application';
  /** How it was obtained, or why it fell back to crash-consistent (e.g. a hook failed under the 'continue' policy); null: nothing to say. */
  readonly note: string | null;
}

/** What the agent's config asks of a VM's backup instant, and where in the config that is set. */
export interface ConfiguredConsistency {
  readonly mode: 'crash' | 'application';
  /** The agent config field, e.g. `hypervisor.vms.0.consistency`. */
  readonly field: string;
}

/** A consistent view of a VM's disks for the time of one backup. */
export interface BackupView {
  readonly vm: string;
  readonly disks: readonly BackupDisk[];
  /** What the view's instant is consistent with (recorded in the manifest). */
  readonly consistency: ViewConsistency;
  /** The checkpoint this view starts (to record in the backup's manifest), or null without change tracking. */
  readonly checkpoint: string | null;
  /** The checkpoint the disks' dirty extents are relative to, or null when there is none. */
  readonly baseCheckpoint: string | null;
  /** Why the view offers no dirty extents although the driver tracks changes (e.g. the bitmap was lost in a crash), or null. */
  readonly fullReason: string | null;
  /** Ends the view: success keeps the new checkpoint, failure keeps every change for the next run. */
  finish(success: boolean): Promise<void>;
}

/** What a new snapshot is called, and how many of Bulwark's own to keep afterwards. */
export interface SnapshotCreateOptions {
  /** A user's name; absent: `bulwark-<id>`. */
  readonly name?: string;
  /**
   * The ULID of an automatic name `bulwark-<id>` (the agent passes the job id, so a redelivered job
   * finds the snapshot it made instead of making a second); absent: a new ULID.
   */
  readonly id?: string;
  /** Afterwards delete the oldest `bulwark-<ULID>` snapshots beyond this many (user-named ones stay). */
  readonly keep?: number;
}

/** A VM's snapshots after an operation, and what the operation did. */
export interface SnapshotOutcome {
  readonly created: string | null;
  readonly removed: readonly string[];
  readonly reverted: string | null;
  /** Whether the hypervisor had the VM running during the operation. */
  readonly vmRunning: boolean;
  /** Complete snapshots (present on every disk), oldest first. */
  readonly snapshots: readonly VmSnapshot[];
  /** Names present on some disks only. */
  readonly incomplete: readonly IncompleteSnapshot[];
  readonly note: string | null;
}

/**
 * Disk snapshots of a VM kept by the hypervisor, without exporting data (qemu: qcow2 internal
 * snapshots, one instant for all disks). NotFoundError for an unknown VM.
 */
export interface VmSnapshots {
  /** Takes a snapshot of every disk of the running VM at one instant, then applies `keep`. */
  create(vm: string, options: SnapshotCreateOptions): Promise<SnapshotOutcome>;
  /** The VM's snapshots, grouped by name across its disks. */
  list(vm: string): Promise<SnapshotOutcome>;
  /** Deletes the snapshot from every disk holding it. */
  remove(vm: string, name: string): Promise<SnapshotOutcome>;
  /** Sets every disk back to the snapshot (the snapshot stays); the driver may require the VM stopped. */
  revert(vm: string, name: string): Promise<SnapshotOutcome>;
}

export interface HypervisorDriver {
  /** The driver kind ('files', 'qemu'). */
  readonly kind: string;
  /** The VMs and their disks, with current sizes. */
  inventory(): Promise<VmInventory[]>;
  /**
   * The VM's definition (qemu: cpus, memoryMiB, machine, nics), recorded in each backup's manifest so
   * a restore can rebuild the VM; absent when the driver has none. NotFoundError for an unknown VM.
   */
  definitionOf?(vm: string): Readonly<Record<string, unknown>>;
  /**
   * Whether the agent's config makes the VM's backup instant application-consistent, and the
   * config field that sets it (named when a policy asks for a consistency the config does not
   * give). Absent: the driver never quiesces a guest. NotFoundError for an unknown VM.
   */
  configuredConsistency?(vm: string): ConfiguredConsistency;
  /** Opens a backup view of one VM; NotFoundError for an unknown VM or a missing disk. */
  openBackupView(vm: string): Promise<BackupView>;
  /** Snapshot management, when the driver offers it (qemu). */
  readonly snapshots?: VmSnapshots;
}
