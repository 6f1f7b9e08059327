/**
 * Starts a restored VM with `qemu-system-x86_64` from the backup's `qemu` definition: CPUs,
 * memory, machine type, NICs (user networking, `restrict=on`: the copy cannot reach the network
 * its original lives on), direct kernel boot when the definition has one, every restored disk as
 * a virtio-blk device in the manifest's order, a QMP socket and the serial console in a file. The
 * process is daemonized (it outlives the agent's job); its pid comes from QEMU's pid file.
 * Accelerator: KVM when /dev/kvm is usable and the CPU has virtualization extensions, else TCG
 * (a /dev/kvm without vmx/svm exists on some nested hosts, and guests hang there under KVM).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppError, PreconditionError } from '../../shared/errors.js';
import type { RestoredVm, StartedVm, VmLauncher } from '../ports/vm-launcher.js';

const run = promisify(execFile);
/** sockaddr_un.sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/** QEMU refused to start the restored VM. */
export class VmStartError extends AppError {
  constructor(vm: string, problem: string, cause?: unknown) {
    super('FAILED_PRECONDITION', `could not start restored VM ${vm}: ${problem}`, { cause, details: { vm, problem } });
  }
}

interface QemuDefinition {
  cpus: number;
  memoryMiB: number;
  machine?: string;
  nics?: { model: string; mac?: string }[];
  kernel?: string;
  initrd?: string;
  append?: string;
}

function qemuDefinitionOf(vm: RestoredVm): QemuDefinition {
  const d = vm.definition.definition;
  const cpus = d.cpus;
  const memoryMiB = d.memoryMiB;
  if (vm.definition.hypervisor !== 'qemu' || typeof cpus !== 'number' || typeof memoryMiB !== 'number') {
    throw new PreconditionError(`backup of VM ${vm.vm} has no QEMU definition (hypervisor ${vm.definition.hypervisor}); start it by hand from vm.json`, { vm: vm.vm });
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const nics = Array.isArray(d.nics) ? (d.nics as unknown[]).flatMap((n) => (n && typeof n === 'object' && typeof (n as { model?: unknown }).model === 'string' ? [n as { model: string; mac?: string }] : [])) : undefined;
  const def: QemuDefinition = { cpus, memoryMiB };
  const machine = str(d.machine);
  const kernel = str(d.kernel);
  const initrd = str(d.initrd);
  const append = str(d.append);
  if (machine) def.machine = machine;
  if (nics) def.nics = nics;
  if (kernel) def.kernel = kernel;
  if (initrd) def.initrd = initrd;
  if (append) def.append = append;
  return def;
}

async function kvmUsable(): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return /\b(vmx|svm)\b/.test(await readFile('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export class QemuVmLauncher implements VmLauncher {
  constructor(private readonly binary = 'qemu-system-x86_64') {}

  async start(vm: RestoredVm): Promise<StartedVm> {
    const def = qemuDefinitionOf(vm);
    let runDir = vm.dir;
    if (Buffer.byteLength(join(runDir, 'qmp.sock')) > MAX_SOCKET_PATH_BYTES) runDir = await mkdtemp('/tmp/bulwark-vm-');
    const qmpSocket = join(runDir, 'qmp.sock');
    const consoleLog = join(vm.dir, 'console.log');
    const pidFile = join(vm.dir, 'qemu.pid');
    const args = [
      '-name', vm.vm,
      '-machine', def.machine ?? 'pc',
      '-accel', (await kvmUsable()) ? 'kvm' : 'tcg',
      '-cpu', 'max',
      '-smp', String(def.cpus),
      '-m', String(def.memoryMiB),
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-serial', `file:${consoleLog}`,
      '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    ];
    if (def.kernel) args.push('-kernel', def.kernel);
    if (def.initrd) args.push('-initrd', def.initrd);
    if (def.append) args.push('-append', def.append);
    vm.disks.forEach((disk, i) => {
      args.push('-blockdev', `driver=file,node-name=disk${i}-file,filename=${disk.path}`);
      args.push('-blockdev', `driver=${disk.format},node-name=disk${i},file=disk${i}-file`);
      args.push('-device', `virtio-blk-pci,drive=disk${i},id=${disk.name}`);
    });
    (def.nics ?? []).forEach((nic, i) => {
      args.push('-netdev', `user,id=net${i},restrict=on`);
      args.push('-device', `${nic.model},netdev=net${i}${nic.mac ? `,mac=${nic.mac}` : ''}`);
    });
    args.push('-daemonize', '-pidfile', pidFile);
    try {
      // With -daemonize the command returns once the VM is set up (its sockets exist) or failed.
      await run(this.binary, args);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      throw new VmStartError(vm.vm, stderr.trim().split('\n').slice(-3).join(' '), err);
    }
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new VmStartError(vm.vm, `no pid in ${pidFile}`);
    return { pid, qmpSocket, consoleLog, command: [this.binary, ...args] };
  }
}
