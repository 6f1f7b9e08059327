/**
 * The Controller API's policy RPCs (create, update, get, list, delete, assign): decode, validate
 * with zod, call the PolicyStore, map to proto. The policy itself travels as `policy_json` and is
 * validated by the store with the zod Policy, so a bad field is INVALID_ARGUMENT naming it
 * (`schedule.cron.0: is not a valid cron expression ...`).
 */
import type { Logger } from '../../shared/log.js';
import { unaryHandler } from '../../shared/rpc/grpc-calls.js';
import type { ControllerHandlers } from '../../shared/rpc/proto-packages.js';
import type { PolicyStore } from '../policies/policy-store.js';
import { policyToProto } from './proto-mapping.js';
import { AssignPolicyInput, CreatePolicyInput, PolicyNameInput, UpdatePolicyInput, parseRequest } from './requests.js';

/** The handlers this file adds to the Controller service. */
export type PolicyHandlers = Pick<
  ControllerHandlers,
  'CreatePolicy' | 'UpdatePolicy' | 'GetPolicy' | 'ListPolicies' | 'DeletePolicy' | 'AssignPolicy'
>;

export function createPolicyHandlers(policies: PolicyStore, log: Logger): PolicyHandlers {
  // The store throws synchronously; `run` turns that into a rejection the wrapper maps to a status.
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    CreatePolicy: unaryHandler(log, (req) => run(() => policyToProto(policies.create(parseRequest(CreatePolicyInput, req).policyJson)))),
    UpdatePolicy: unaryHandler(log, (req) =>
      run(() => {
        const input = parseRequest(UpdatePolicyInput, req);
        return policyToProto(policies.update(input.policyJson, input.ifUpdatedAt));
      }),
    ),
    GetPolicy: unaryHandler(log, (req) => run(() => policyToProto(policies.get(parseRequest(PolicyNameInput, req).name)))),
    ListPolicies: unaryHandler(log, () => run(() => ({ policies: policies.list().map(policyToProto) }))),
    DeletePolicy: unaryHandler(log, (req) =>
      run(() => {
        const { name } = parseRequest(PolicyNameInput, req);
        policies.delete(name);
        return { name };
      }),
    ),
    AssignPolicy: unaryHandler(log, (req) =>
      run(() => {
        const { name, ...change } = parseRequest(AssignPolicyInput, req);
        return policyToProto(policies.assign(name, change));
      }),
    ),
  };
}
