/**
 * A demo VM on QEMU for `bulwark up`: its disks are qcow2 images (the seeded demo content,
 * converted once) served by a qemu-storage-daemon, a real QEMU block layer without a guest. The
 * agent reaches it over QMP, as it would a running `qemu-system` VM, and backs it up through
 * fleecing and dirty bitmaps. "Guest" writes go through the daemon's writable NBD export of each
 * disk (`nbd+unix:///<disk>?socket=<vm dir>/nbd.sock`), so they change the live disk while a
 * backup reads its point-in-time view.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeDemoDisk } from './demo-disk.js';
import { ManagedProcess } from './managed-process.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;

export interface QemuDemoVmSpec {
  readonly name: string;
  readonly disks: readonly { readonly name: string; readonly sizeMib: number }[];
}

/** A started demo VM: its daemon, and what the agent's config needs. */
export interface QemuDemoVm {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly qmpSocket: string;
  /** The daemon's NBD server: the agent's fleecing exports and the writable "guest" exports. */
  readonly nbdSocket: string;
  readonly disks: readonly { readonly name: string; readonly path: string }[];
}

/** Creates the VM's qcow2 disks when missing (demo content) and starts its qemu-storage-daemon. */
export async function startQemuDemoVm(vmsDir: string, logs: string, spec: QemuDemoVmSpec, log: (line: string) => void): Promise<QemuDemoVm> {
  const dir = join(vmsDir, spec.name);
  mkdirSync(dir, { recursive: true });
  const disks = [];
  for (const disk of spec.disks) {
    const path = join(dir, `${disk.name}.qcow2`);
    if (!existsSync(path)) {
      log(`creating demo disk ${path} (${disk.sizeMib} MiB, qcow2)`);
      const raw = `${path}.raw.tmp`;
      await writeDemoDisk(raw, disk.sizeMib * MIB, `${spec.name}/${disk.name}`);
      await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', '-S', '4k', raw, `${path}.tmp`]);
      await run('mv', [`${path}.tmp`, path]);
      rmSync(raw, { force: true });
    }
    disks.push({ name: disk.name, path });
  }
  const qmpSocket = join(dir, 'qmp.sock');
  const nbdSocket = join(dir, 'nbd.sock');
  const pidFile = join(dir, 'qsd.pid');
  const args = ['--chardev', `socket,id=qmp0,path=${qmpSocket},server=on,wait=off`, '--monitor', 'chardev=qmp0'];
  for (const disk of disks) {
    args.push('--blockdev', `driver=file,node-name=${disk.name}-file,filename=${disk.path}`);
    args.push('--blockdev', `driver=qcow2,node-name=${disk.name},file=${disk.name}-file`);
  }
  args.push('--nbd-server', `addr.type=unix,addr.path=${nbdSocket}`);
  for (const disk of disks) args.push('--export', `type=nbd,id=guest-${disk.name},node-name=${disk.name},name=${disk.name},writable=on`);
  // The pid file is written once the sockets and exports exist: it is the ready file.
  args.push('--pidfile', pidFile);
  const process = new ManagedProcess({ name: `qemu-${spec.name}`, command: 'qemu-storage-daemon', args, logFile: join(logs, `qemu-${spec.name}.log`), readyFile: pidFile });
  await process.start();
  return { name: spec.name, process, qmpSocket, nbdSocket, disks };
}
