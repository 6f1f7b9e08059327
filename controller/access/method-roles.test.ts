import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controllerPackage } from '../../shared/rpc/proto-packages.js';
import { METHOD_ACCESS, methodAccess, roleAllows, UNLISTED_METHOD_ACCESS } from './method-roles.js';

const serviceMethods = Object.keys(controllerPackage().Controller.service).sort();

describe('the method → role table', () => {
  it('has an entry for every method of the Controller service, and none for a method it lacks', () => {
    const missing = serviceMethods.filter((m) => !Object.hasOwn(METHOD_ACCESS, m));
    assert.deepEqual(missing, [], `place these Controller methods in METHOD_ACCESS (controller/access/method-roles.ts): ${missing.join(', ')}`);
    const stale = Object.keys(METHOD_ACCESS).filter((m) => !serviceMethods.includes(m));
    assert.deepEqual(stale, [], `METHOD_ACCESS lists methods the service does not have: ${stale.join(', ')}`);
  });

  it('lets viewers read, and audits every method that is not a read', () => {
    for (const m of serviceMethods) {
      const entry = methodAccess(m);
      const isRead = /^(List|Get|Watch)/.test(m);
      if (isRead && entry.role !== 'admin') assert.equal(entry.role, 'viewer', `${m} is a read: viewer`);
      if (!isRead) assert.equal(entry.mutates, true, `${m} changes something: audited`);
      if (isRead) assert.equal(entry.mutates, false, `${m} is a read: not audited unless refused`);
      if (!isRead) assert.notEqual(entry.role, 'viewer', `${m} changes something: not for viewers`);
    }
  });

  it('keeps access itself and deletions for admins', () => {
    for (const m of serviceMethods.filter((x) => /ApiToken|Audit|^Delete/.test(x))) assert.equal(methodAccess(m).role, 'admin', m);
    for (const m of serviceMethods.filter((x) => /^Start|^Lock|^ImportCatalog$|^Cancel/.test(x))) assert.equal(methodAccess(m).role, 'operator', m);
  });

  it('gives a method it does not list to admins only, audited', () => {
    assert.deepEqual(methodAccess('SomethingNew'), UNLISTED_METHOD_ACCESS);
    assert.deepEqual(methodAccess('toString'), UNLISTED_METHOD_ACCESS, 'no prototype keys');
    assert.equal(UNLISTED_METHOD_ACCESS.role, 'admin');
  });

  it('orders the roles viewer < operator < admin', () => {
    assert.equal(roleAllows('admin', 'operator'), true);
    assert.equal(roleAllows('operator', 'viewer'), true);
    assert.equal(roleAllows('operator', 'operator'), true);
    assert.equal(roleAllows('viewer', 'operator'), false);
    assert.equal(roleAllows('operator', 'admin'), false);
  });
});
