/**
 * Starting a VM on restored disks, on the agent's host: the restore job hands over what it wrote
 * (the disks and the backup's VM definition) once everything is complete and durable.
 */
import type { VmDefinition } from '../../shared/format/manifest.js';

/** A restored VM: its disks as written and the definition its backup recorded. */
export interface RestoredVm {
  readonly vm: string;
  /** The restore's target directory. */
  readonly dir: string;
  readonly definition: VmDefinition;
  readonly disks: readonly { readonly name: string; readonly path: string; readonly format: 'raw' | 'qcow2' }[];
}

/** A VM process started on restored disks. */
export interface StartedVm {
  readonly pid: number;
  readonly qmpSocket: string;
  readonly consoleLog: string;
  /** The command line, for the operator's record. */
  readonly command: readonly string[];
}

export interface VmLauncher {
  /** Starts the VM (detached from the agent: it outlives the job); PreconditionError when the definition cannot be run here. */
  start(vm: RestoredVm): Promise<StartedVm>;
}
