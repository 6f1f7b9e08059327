/**
 * A policy's consistency request against what the agent's config gives a VM. The agent config
 * owns how a guest is quiesced (guest agent, hooks: hypervisors/qemu/consistency-config.ts); a
 * policy can only ask. When it asks 'application' of a VM whose config quiesces nothing, its
 * `onFailure` decides: 'abort' fails the backup before any view is opened (the error names the
 * config field to set), 'continue' backs up crash-consistent and the manifest says why. A VM
 * configured for application consistency is backed up as configured, whatever the policy asks
 * (its own onFailure governs a failed quiesce).
 */
import { AppError } from '../../shared/errors.js';
import type { RequestedConsistency } from '../../shared/messages/jobs.js';
import type { HypervisorDriver, ViewConsistency } from '../hypervisors/hypervisor.js';

/** A policy asked for application consistency, with onFailure 'abort', of a VM whose agent config quiesces nothing. */
export class ConsistencyUnavailableError extends AppError {
  constructor(
    readonly vm: string,
    readonly reason: string,
  ) {
    super(
      'FAILED_PRECONDITION',
      `VM ${vm}: the policy asks for application consistency but ${reason}; or set the policy's consistency to crash, or its onFailure to continue`,
      { details: { vm, reason } },
    );
  }
}

/** How the backup's instant is to be taken: as the VM's config says, or crash-consistent with a note for the manifest. */
export type ConsistencyPlan = { readonly kind: 'as-configured' } | { readonly kind: 'crash-instead'; readonly note: string };

/** Decides before the view is opened; throws ConsistencyUnavailableError under 'abort'. */
export function planConsistency(
  vm: string,
  requested: RequestedConsistency | undefined,
  driver: Pick<HypervisorDriver, 'kind' | 'configuredConsistency'>,
): ConsistencyPlan {
  if (requested?.mode !== 'application') return { kind: 'as-configured' };
  const configured = driver.configuredConsistency?.(vm);
  if (configured?.mode === 'application') return { kind: 'as-configured' };
  const reason =
    configured === undefined
      ? `the ${driver.kind} hypervisor cannot quiesce a guest (only a qemu VM whose agent config sets consistency.mode "application" can)`
      : `its agent config quiesces nothing: set ${configured.field}.mode to "application" with guestAgent or preSnapshot on the agent of this VM`;
  if (requested.onFailure === 'abort') throw new ConsistencyUnavailableError(vm, reason);
  return { kind: 'crash-instead', note: `the policy asked for application consistency, not given: ${reason}; crash-consistent (policy onFailure: continue)` };
}

/** The consistency to record in the manifest: the view's, or crash with the plan's note first. */
export function recordedConsistency(plan: ConsistencyPlan, view: ViewConsistency): ViewConsistency {
  if (plan.kind === 'as-configured') return view;
  // The manifest holds at most 1024 characters of note.
  return { level: 'crash', note: (view.note === null ? plan.note : `${plan.note}; ${view.note}`).slice(0, 1024) };
}
