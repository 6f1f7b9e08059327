import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Policy } from '../../shared/messages/policy.js';
import type { VmRow } from '../catalog/catalog.js';
import { matchesNamePattern, policiesCovering, policyCovers, vmsCoveredBy } from './coverage.js';

const vm = (name: string, tags: string[] = []): VmRow => ({ name, site: 'a', worker: 'agent-1', hypervisor: 'files', disks: [], tags });

const policy = (name: string, selector: { vms?: string[]; namePatterns?: string[]; tags?: string[] }) =>
  Policy.parse({ name, schedule: { cron: ['0 2 * * *'] }, selector });

describe('matchesNamePattern', () => {
  const cases: [string, string, boolean][] = [
    ['web-01', 'web-01', true],
    ['web-01', 'web-012', false],
    ['web-*', 'web-01', true],
    ['web-*', 'web-', true],
    ['web-*', 'db-01', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['web-??', 'web-01', true],
    ['web-??', 'web-1', false],
    ['web-??', 'web-001', false],
    ['*-db-*', 'eu-db-1', true],
    ['*-db-*', 'eu-db', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['a*b*c', 'abbbc', true],
    ['*.prod', 'x.prod', true],
    ['*.prod', 'xprod', false],
    ['Web-*', 'web-1', false],
    ['**a', 'bba', true],
    ['?', '', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} "${name}"`, () => {
      assert.equal(matchesNamePattern(pattern, name), expected);
    });
  }

  it('stays fast on patterns that make naive matchers exponential', () => {
    const name = `${'a'.repeat(5000)}b`;
    const started = process.hrtime.bigint();
    assert.equal(matchesNamePattern('*a*a*a*a*a*a*a*a*c', name), false);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
  });
});

describe('vmsCoveredBy', () => {
  const inventory = [vm('db-1', ['tier:db']), vm('web-1', ['frontend']), vm('web-2'), vm('mail', ['tier:db', 'frontend']), vm('lab')];

  it('covers listed VMs, pattern matches and tagged VMs, in inventory order', () => {
    const p = policy('mix', { vms: ['lab'], namePatterns: ['web-?'], tags: ['tier:db'] });
    assert.deepEqual(
      vmsCoveredBy(p, inventory).map((v) => v.name),
      ['db-1', 'web-1', 'web-2', 'mail', 'lab'],
    );
  });

  it('covers nothing with an empty selector', () => {
    assert.deepEqual(vmsCoveredBy(policy('none', {}), inventory), []);
  });

  it('lists a VM once even when several selectors match it', () => {
    const p = policy('dup', { vms: ['mail'], namePatterns: ['m*'], tags: ['frontend', 'tier:db'] });
    assert.deepEqual(
      vmsCoveredBy(p, inventory).map((v) => v.name),
      ['db-1', 'web-1', 'mail'],
    );
  });

  it('a listed VM not in the inventory is simply not covered (yet)', () => {
    assert.deepEqual(vmsCoveredBy(policy('ghost', { vms: ['ghost'] }), inventory), []);
  });

  it('covers a new VM matching a pattern or tag without changing the policy', () => {
    const p = policy('auto', { namePatterns: ['web-*'], tags: ['backup'] });
    assert.equal(policyCovers(p, vm('web-99')), true);
    assert.equal(policyCovers(p, vm('other', ['backup'])), true);
    assert.equal(policyCovers(p, vm('other', ['nobackup'])), false);
  });
});

describe('policiesCovering', () => {
  it('returns every policy that covers the VM, in the order given', () => {
    const ps = [policy('p1', { tags: ['x'] }), policy('p2', { namePatterns: ['db-*'] }), policy('p3', { vms: ['web-1'] })];
    assert.deepEqual(
      policiesCovering(vm('db-1', ['x']), ps).map((p) => p.name),
      ['p1', 'p2'],
    );
    assert.deepEqual(policiesCovering(vm('lab'), ps), []);
  });
});
