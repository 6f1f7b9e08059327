/**
 * The `files` driver: VMs declared in the agent's config as named sets of raw disk image files.
 * A backup view opens every image with a FileHandle and reads it as it is (no snapshot: the
 * caller keeps the files still, or accepts a crash-consistent-at-best copy). Changes are found
 * by hashing ('hash'); size comes from fstat at open time.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { NotFoundError, PreconditionError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import type { FilesHypervisorConfig } from '../../config.js';
import type { BackupDisk, BackupView, HypervisorDriver, VmInventory } from '../hypervisor.js';

export class FilesDriver implements HypervisorDriver {
  readonly kind = 'files';

  constructor(
    private readonly config: FilesHypervisorConfig,
    private readonly log: Logger,
  ) {}

  async inventory(): Promise<VmInventory[]> {
    const vms: VmInventory[] = [];
    for (const vm of this.config.vms) {
      const disks = [];
      for (const disk of vm.disks) {
        let sizeBytes = 0;
        try {
          const st = await stat(disk.path);
          if (st.isFile()) sizeBytes = st.size;
          else this.log.warn({ vm: vm.name, disk: disk.name, path: disk.path }, 'disk image is not a regular file');
        } catch (err) {
          // Inventory reports what it can; a backup of this VM fails with a NotFoundError.
          this.log.warn({ err, vm: vm.name, disk: disk.name, path: disk.path }, 'disk image not readable');
        }
        disks.push({ name: disk.name, sizeBytes });
      }
      vms.push({ name: vm.name, hypervisor: this.kind, disks });
    }
    return vms;
  }

  async openBackupView(vmName: string): Promise<BackupView> {
    const vm = this.config.vms.find((v) => v.name === vmName);
    if (!vm) throw new NotFoundError('VM', vmName);
    const opened: FileDisk[] = [];
    try {
      for (const disk of vm.disks) opened.push(await FileDisk.open(vm.name, disk.name, disk.path));
    } catch (err) {
      await Promise.all(opened.map((d) => d.close()));
      throw err;
    }
    return {
      vm: vm.name,
      disks: opened,
      consistency: { level: 'crash', note: 'image files read as they are (no snapshot)' },
      checkpoint: null,
      baseCheckpoint: null,
      fullReason: null,
      finish: async () => {
        await Promise.all(opened.map((d) => d.close()));
      },
    };
  }
}

class FileDisk implements BackupDisk {
  readonly changeTracking = 'hash' as const;

  private constructor(
    readonly vm: string,
    readonly name: string,
    readonly path: string,
    readonly sizeBytes: number,
    private readonly handle: FileHandle,
  ) {}

  static async open(vm: string, name: string, path: string): Promise<FileDisk> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`disk image of VM ${vm}`, path);
      throw err;
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new PreconditionError(`disk image ${path} of VM ${vm} is not a regular file`, { vm, path });
      return new FileDisk(vm, name, path, st.size, handle);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    await this.readInto(buf, offset);
    return buf;
  }

  async readInto(buf: Buffer, offset: number): Promise<void> {
    const length = buf.length;
    if (offset < 0 || offset + length > this.sizeBytes) {
      throw new RangeError(`read of ${length} bytes at ${offset} outside disk ${this.name} (${this.sizeBytes} bytes)`);
    }
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new PreconditionError(`disk image ${this.path} of VM ${this.vm} shrank while it was read`, {
          vm: this.vm,
          path: this.path,
          offset: offset + done,
        });
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
