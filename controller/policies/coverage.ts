/**
 * Which VMs a policy covers (DESIGN.md §8 "assignments"): a VM is covered when its name is
 * listed in the policy's selector, matches one of its name patterns, or carries one of its tags.
 * Coverage is computed from the current inventory each time it is asked, never stored, so a new
 * VM matching a pattern or tag is covered as soon as its agent reports it, and a VM that loses a
 * tag stops being covered without any bookkeeping.
 *
 * Patterns match the whole name: `*` any run of characters (also none), `?` exactly one; every
 * other character stands for itself, case-sensitively (VM names are case-sensitive elsewhere).
 */
import type { Policy } from '../../shared/messages/policy.js';
import type { VmRow } from '../catalog/catalog.js';

/** The part of a VM coverage looks at. */
export type CoverableVm = Pick<VmRow, 'name' | 'tags'>;

/** True when `name` matches `pattern` as a whole (`*` any run, `?` one character). */
export function matchesNamePattern(pattern: string, name: string): boolean {
  // Iterative wildcard match with one backtrack point (the last `*`): linear in practice and
  // never exponential, unlike a naive recursive matcher or a regex built from user input.
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starN = n;
    } else if (pc !== undefined && (pc === '?' || pc === name[n])) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** True when the policy's selector covers the VM (listed, matching a pattern, or tagged). */
export function policyCovers(policy: Pick<Policy, 'selector'>, vm: CoverableVm): boolean {
  const { vms, namePatterns, tags } = policy.selector;
  if (vms.includes(vm.name)) return true;
  if (namePatterns.some((p) => matchesNamePattern(p, vm.name))) return true;
  return tags.some((t) => vm.tags.includes(t));
}

/** The VMs of `vms` the policy covers, in the order given. */
export function vmsCoveredBy<V extends CoverableVm = VmRow>(policy: Pick<Policy, 'selector'>, vms: readonly V[]): V[] {
  return vms.filter((vm) => policyCovers(policy, vm));
}

/** The policies of `policies` that cover the VM, in the order given. */
export function policiesCovering<P extends Pick<Policy, 'selector'> = Policy>(vm: CoverableVm, policies: readonly P[]): P[] {
  return policies.filter((p) => policyCovers(p, vm));
}
