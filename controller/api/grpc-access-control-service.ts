/**
 * The Controller API's access RPCs: API tokens (create, list, revoke) and the audit log. Decode,
 * validate with zod, call ApiAccess, map to proto; the interceptor (grpc-access-control.ts) has
 * already checked that the caller is an admin, and tells who it is (for `created_by`).
 */
import { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import { unaryHandler } from '../../shared/rpc/grpc-calls.js';
import type { ApiToken } from '../../shared/rpc/generated/bulwark/v1/ApiToken.js';
import type { AuditEntry } from '../../shared/rpc/generated/bulwark/v1/AuditEntry.js';
import type { ControllerHandlers } from '../../shared/rpc/proto-packages.js';
import type { ApiAccess } from '../access/api-access.js';
import { ApiRoles, type ApiTokenRow, type AuditEntryRow } from '../catalog/access-store.js';
import { callerOf } from './grpc-access-control.js';
import { parseRequest } from './requests.js';

/** The handlers this file adds to the Controller service. */
export type AccessHandlers = Pick<ControllerHandlers, 'CreateApiToken' | 'ListApiTokens' | 'RevokeApiToken' | 'ListAuditEntries'>;

/** An API token's name: shown in the audit log and `bulwark token list`. */
export const ApiTokenName = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');

const optional = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

export const CreateApiTokenInput = z.object({
  name: ApiTokenName,
  role: z.enum(ApiRoles, { error: 'must be one of viewer, operator, admin' }),
  expiresInMs: z
    .number()
    .int('must be a whole number of milliseconds')
    .nonnegative('must not be negative')
    .max(100 * 365 * 24 * 3600_000, 'must be at most 100 years'),
});

export const RevokeApiTokenInput = z.object({ name: ApiTokenName });

export const ListAuditEntriesInput = z.object({
  since: optional(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time with a zone' })),
  tokenName: optional(z.string().max(64, 'must be at most 64 characters')),
  method: optional(z.string().regex(/^[A-Za-z]{1,64}$/, 'must be a method name such as StartBackup')),
  limit: z.preprocess((v) => (v === 0 ? 100 : v), z.number().int().min(1).max(10_000, 'must be at most 10000')),
});

function tokenToProto(t: ApiTokenRow, state: string): ApiToken {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdAt: t.createdAt,
    createdBy: t.createdBy,
    expiresAt: t.expiresAt ?? '',
    revokedAt: t.revokedAt ?? '',
    lastUsedAt: t.lastUsedAt ?? '',
    state,
  };
}

function auditToProto(e: AuditEntryRow): AuditEntry {
  return {
    id: e.id,
    at: e.at,
    tokenName: e.tokenName,
    tokenId: e.tokenId ?? '',
    role: e.role ?? '',
    method: e.method,
    requestJson: e.request ?? '',
    outcome: e.outcome,
    error: e.error ?? '',
  };
}

export function createAccessHandlers(access: ApiAccess, log: Logger): AccessHandlers {
  return {
    CreateApiToken: unaryHandler(log, (req, call) => {
      const input = parseRequest(CreateApiTokenInput, req);
      const { token, secret } = access.createToken(input, callerOf(call.metadata).tokenName);
      return Promise.resolve({ token: tokenToProto(token, access.tokenState(token)), secret });
    }),
    ListApiTokens: unaryHandler(log, () => {
      return Promise.resolve({ tokens: access.listTokens().map((t) => tokenToProto(t, access.tokenState(t))) });
    }),
    RevokeApiToken: unaryHandler(log, (req, call) => {
      const input = parseRequest(RevokeApiTokenInput, req);
      const token = access.revokeToken(input.name, callerOf(call.metadata).tokenName);
      return Promise.resolve(tokenToProto(token, access.tokenState(token)));
    }),
    ListAuditEntries: unaryHandler(log, (req) => {
      const input = parseRequest(ListAuditEntriesInput, req);
      const entries = access.listAudit({
        limit: input.limit,
        ...(input.since !== undefined ? { since: new Date(input.since).toISOString() } : {}),
        ...(input.tokenName !== undefined ? { tokenName: input.tokenName } : {}),
        ...(input.method !== undefined ? { method: input.method } : {}),
      });
      return Promise.resolve({ entries: entries.map(auditToProto) });
    }),
  };
}
