/**
 * Which role each method of the controller's API (`bulwark.v1.Controller`) needs, and whether a
 * call of it is written to the audit log. One table for every method: the access interceptor
 * reads it on each call, and a unit test checks it lists exactly the service's methods, so a
 * new RPC is not served to anyone below admin until it is placed here.
 *
 * Roles are ordered: viewer < operator < admin; a role may call what any weaker role may.
 * - viewer: reads (List*, Get*, Watch*);
 * - operator: runs the deployment: starts jobs, locks, imports the catalog, cancels jobs,
 *   creates, edits and assigns policies;
 * - admin: access itself (API tokens, the audit log) and removals that lose configuration
 *   (deleting a policy).
 */
import type { ApiRole } from '../catalog/access-store.js';

/** What a method needs: the weakest role allowed, and whether its calls are audited. */
export interface MethodAccess {
  readonly role: ApiRole;
  /** Changes something (or reveals secrets): every call is written to the audit log. */
  readonly mutates: boolean;
}

const read = (role: ApiRole = 'viewer'): MethodAccess => ({ role, mutates: false });
const write = (role: ApiRole = 'operator'): MethodAccess => ({ role, mutates: true });

/** The role each Controller method needs. Keep in step with proto/bulwark/v1/controller.proto. */
export const METHOD_ACCESS: Readonly<Record<string, MethodAccess>> = Object.freeze({
  ListVms: read(),
  ListWorkers: read(),
  ListJobs: read(),
  GetJob: read(),
  ListCatalogBackups: read(),
  WatchJob: read(),
  ListRepairs: read(),
  ListAlerts: read(),
  GetReplicationStatus: read(),
  GetStatus: read(),
  StartBackup: write(),
  StartRestore: write(),
  StartSync: write(),
  StartVerify: write(),
  StartPrune: write(),
  StartGc: write(),
  StartSnapshot: write(),
  LockBackup: write(),
  ImportCatalog: write(),
  CancelJob: write(),
  ListRpo: read(),
  ListPolicies: read(),
  GetPolicy: read(),
  CreatePolicy: write(),
  UpdatePolicy: write(),
  AssignPolicy: write(),
  DeletePolicy: write('admin'),
  CreateApiToken: write('admin'),
  ListApiTokens: read('admin'),
  RevokeApiToken: write('admin'),
  ListAuditEntries: read('admin'),
});

/** A method not in the table: only admin may call it, and the call is audited (fail closed for everyone else). */
export const UNLISTED_METHOD_ACCESS: MethodAccess = Object.freeze({ role: 'admin', mutates: true });

const RANK: Readonly<Record<ApiRole, number>> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `held` may call a method that needs `needed`. */
export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return RANK[held] >= RANK[needed];
}

/** The table's entry for a method, or the admin-only default. */
export function methodAccess(method: string): MethodAccess {
  return Object.hasOwn(METHOD_ACCESS, method) ? (METHOD_ACCESS[method] ?? UNLISTED_METHOD_ACCESS) : UNLISTED_METHOD_ACCESS;
}
