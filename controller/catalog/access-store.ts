/**
 * The part of the catalog that holds access to the controller's API: API tokens (only the
 * SHA-256 of each secret is stored, never the secret) and the audit log of mutating and refused
 * calls. A port, like the rest of `Catalog`; `SqliteAccessStore` is the adapter.
 *
 * A token row is never deleted: revoking sets `revokedAt`, so the audit log's token names keep
 * meaning something and a revoked name cannot be reused by mistake.
 */
import { AppError } from '../../shared/errors.js';

/** The roles of the controller's API, weakest first: each may do everything the ones before it may. */
export const ApiRoles = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof ApiRoles)[number];

/** One API token (its secret is not here: only its hash). */
export interface ApiTokenRow {
  readonly id: string;
  readonly name: string;
  readonly role: ApiRole;
  /** SHA-256 of the secret, lowercase hex. */
  readonly tokenSha256: string;
  readonly createdAt: string;
  /** The token name (or `anonymous`, `controller`) that created it. */
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

/** One audited call: a mutating call (whatever its outcome) or a refused one. */
export interface AuditEntryRow {
  readonly id: number;
  readonly at: string;
  /** The caller's token name, `anonymous` without a token, `-` for a token not known here. */
  readonly tokenName: string;
  readonly tokenId: string | null;
  /** The role the caller held; null when it held none (no usable token). */
  readonly role: ApiRole | null;
  /** The method's name (`StartBackup`). */
  readonly method: string;
  /** The request as JSON, with secrets replaced by `[redacted]`; null when it was not read. */
  readonly request: string | null;
  /** `ok`, or the gRPC status code's name (`PERMISSION_DENIED`). */
  readonly outcome: string;
  readonly error: string | null;
}

export type AuditEntryInsert = Omit<AuditEntryRow, 'id'>;

export interface AuditFilter {
  /** Entries at or after this time. */
  readonly since?: string;
  readonly tokenName?: string;
  readonly method?: string;
  readonly limit: number;
}

/** A token of that name exists (revoked ones too: names are never reused). */
export class ApiTokenExistsError extends AppError {
  constructor(readonly tokenName: string) {
    super('ALREADY_EXISTS', `an API token named ${tokenName} already exists (names are never reused, revoked ones included); choose another name`, {
      details: { name: tokenName },
    });
  }
}

export interface AccessStore {
  /** Stores a new token; ApiTokenExistsError when the name is taken. */
  insertApiToken(token: ApiTokenRow): void;
  getApiToken(name: string): ApiTokenRow | undefined;
  /** Every token, revoked and expired ones too, oldest first. */
  listApiTokens(): ApiTokenRow[];
  /** Sets `revokedAt` unless already set; false when there is no such token or it was revoked before. */
  revokeApiToken(name: string, at: string): boolean;
  /** Records a use of the token (a cheap update; callers throttle it). */
  touchApiToken(id: string, at: string): void;

  /** Appends an audit entry. */
  insertAuditEntry(entry: AuditEntryInsert): void;
  /** Newest first. */
  listAuditEntries(filter: AuditFilter): AuditEntryRow[];
  /** Deletes the audit entries older than `before` (ISO-8601 UTC); returns how many. */
  pruneAuditEntries(before: string): number;
}
