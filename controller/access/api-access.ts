/**
 * Access to the controller's API: who a call comes from (its bearer token, or the configured
 * anonymous role), whether that role may call the method (method-roles.ts), the API tokens
 * themselves, and the audit log. The gRPC edge (controller/api/grpc-access-control.ts) calls
 * this on every call; handlers of the token and audit RPCs call it too.
 *
 * Terms: a token's *secret* (`bwk_…`, shared/crypto/bearer-token.ts) is shown once, when it is
 * made; the catalog keeps only its SHA-256. A presented secret is looked up by comparing its
 * hash with every stored one in constant time. Revoked and expired tokens stay in the catalog
 * (the audit log names them) but authenticate nobody.
 */
import { bearerTokenSha256, createBearerToken, findByTokenSha256 } from '../../shared/crypto/bearer-token.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, NotFoundError, PreconditionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { AccessStore, ApiRole, ApiTokenRow, AuditEntryInsert, AuditEntryRow, AuditFilter } from '../catalog/access-store.js';
import { methodAccess, roleAllows, type MethodAccess } from './method-roles.js';

/** The role of calls without a token: one of the roles, or `none` (they are refused). */
export type AnonymousRole = ApiRole | 'none';

/** Who is calling: a token (its name and id) or `anonymous`, and the role held. */
export interface ApiCaller {
  readonly tokenName: string;
  readonly tokenId: string | null;
  readonly role: ApiRole;
}

/** The name the bootstrap admin token gets. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';
/** Names a token cannot have: they stand for callers without one in the audit log. */
export const RESERVED_TOKEN_NAMES: readonly string[] = ['anonymous', 'controller', '-'];

const HOW_TO_GET_A_TOKEN =
  'give one with --token-file <file> or BULWARK_TOKEN (or in the client config); an admin makes one with `bulwark token create <name> --role <role>`';

/** The call carries no usable token. `tokenName` is set when the token is known (revoked, expired). */
export class ApiUnauthenticatedError extends AppError {
  constructor(
    reason: string,
    readonly method: string,
    readonly needed: ApiRole,
    readonly token?: Pick<ApiTokenRow, 'name' | 'id'>,
  ) {
    super('UNAUTHENTICATED', `${reason}; role held: none, Controller.${method} needs role ${needed}: ${HOW_TO_GET_A_TOKEN}`, {
      details: { method, needed, ...(token ? { token: token.name } : {}) },
    });
  }
}

/** The caller's role is weaker than the one the method needs. */
export class ApiPermissionDeniedError extends AppError {
  constructor(caller: ApiCaller, method: string, needed: ApiRole) {
    const who = caller.tokenId === null ? 'calls without a token hold' : `token ${caller.tokenName} holds`;
    super(
      'PERMISSION_DENIED',
      `${who} role ${caller.role}; Controller.${method} needs role ${needed} or higher: use a token with role ${needed} (an admin makes one with \`bulwark token create <name> --role ${needed}\`)`,
      { details: { method, held: caller.role, needed, token: caller.tokenName } },
    );
  }
}

export interface ApiAccessDeps {
  readonly store: AccessStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly anonymousRole: AnonymousRole;
  readonly newId: () => string;
  /** A new secret; default: shared/crypto's bearer token. */
  readonly newSecret?: () => string;
}

export interface CreateTokenInput {
  readonly name: string;
  readonly role: ApiRole;
  /** 0 or absent: the token never expires. */
  readonly expiresInMs?: number | undefined;
}

const BEARER = /^Bearer ([^\s]+)$/;
/** last_used_at is written at most this often per token, not on every call. */
const TOUCH_EVERY_MS = 60_000;

export class ApiAccess {
  private readonly newSecret: () => string;

  constructor(private readonly deps: ApiAccessDeps) {
    this.newSecret = deps.newSecret ?? createBearerToken;
  }

  get anonymousRole(): AnonymousRole {
    return this.deps.anonymousRole;
  }

  /**
   * The caller behind a call's `authorization` metadata values: its token, or the anonymous role
   * when there is none. ApiUnauthenticatedError for a malformed, unknown, revoked or expired
   * token, or no token where anonymous calls are refused. `method` only words the message.
   */
  authenticate(authorization: readonly unknown[], method: string): ApiCaller {
    const needed = methodAccess(method).role;
    if (authorization.length === 0) {
      if (this.deps.anonymousRole === 'none') throw new ApiUnauthenticatedError('this controller requires an API token', method, needed);
      return { tokenName: 'anonymous', tokenId: null, role: this.deps.anonymousRole };
    }
    const value = authorization.length === 1 ? authorization[0] : undefined;
    const match = typeof value === 'string' ? BEARER.exec(value) : null;
    if (!match?.[1]) throw new ApiUnauthenticatedError('the authorization metadata must be one "Bearer <token>"', method, needed);
    const token = findByTokenSha256(this.deps.store.listApiTokens(), match[1]);
    if (!token) throw new ApiUnauthenticatedError('the API token is not valid at this controller', method, needed);
    if (token.revokedAt !== null) {
      throw new ApiUnauthenticatedError(`API token ${token.name} was revoked at ${token.revokedAt}`, method, needed, token);
    }
    const now = this.deps.clock.nowIso();
    if (token.expiresAt !== null && token.expiresAt <= now) {
      throw new ApiUnauthenticatedError(`API token ${token.name} expired at ${token.expiresAt}`, method, needed, token);
    }
    if (token.lastUsedAt === null || Date.parse(now) - Date.parse(token.lastUsedAt) >= TOUCH_EVERY_MS) {
      this.deps.store.touchApiToken(token.id, now);
    }
    return { tokenName: token.name, tokenId: token.id, role: token.role };
  }

  /** The method's access entry; ApiPermissionDeniedError unless the caller's role may call it. */
  authorize(caller: ApiCaller, method: string): MethodAccess {
    const access = methodAccess(method);
    if (!roleAllows(caller.role, access.role)) throw new ApiPermissionDeniedError(caller, method, access.role);
    return access;
  }

  /** Makes a token; its secret is returned here once and never stored. */
  createToken(input: CreateTokenInput, createdBy: string): { token: ApiTokenRow; secret: string } {
    return this.storeToken(input, createdBy, this.newSecret());
  }

  private storeToken(input: CreateTokenInput, createdBy: string, secret: string): { token: ApiTokenRow; secret: string } {
    if (RESERVED_TOKEN_NAMES.includes(input.name)) {
      throw new PreconditionError(`the token name ${input.name} is reserved (${RESERVED_TOKEN_NAMES.join(', ')}); choose another`, { name: input.name });
    }
    const nowMs = this.deps.clock.nowMs();
    const token: ApiTokenRow = {
      id: this.deps.newId(),
      name: input.name,
      role: input.role,
      tokenSha256: bearerTokenSha256(secret),
      createdAt: new Date(nowMs).toISOString(),
      createdBy,
      expiresAt: input.expiresInMs ? new Date(nowMs + input.expiresInMs).toISOString() : null,
      revokedAt: null,
      lastUsedAt: null,
    };
    this.deps.store.insertApiToken(token);
    this.deps.log.info({ token: token.name, role: token.role, expiresAt: token.expiresAt, createdBy }, 'API token created');
    return { token, secret };
  }

  /** A token's state at the controller's clock. */
  tokenState(t: ApiTokenRow): 'active' | 'revoked' | 'expired' {
    if (t.revokedAt !== null) return 'revoked';
    return t.expiresAt !== null && t.expiresAt <= this.deps.clock.nowIso() ? 'expired' : 'active';
  }

  /** Every token, oldest first (no secrets: there are none to show). */
  listTokens(): ApiTokenRow[] {
    return this.deps.store.listApiTokens();
  }

  /**
   * Revokes a token at once: its next call is refused. Revoking a revoked token changes nothing.
   * Refused when it would leave no usable admin token (nobody could manage access any more).
   */
  revokeToken(name: string, by: string): ApiTokenRow {
    const { store, clock } = this.deps;
    const token = store.getApiToken(name);
    if (!token) throw new NotFoundError('API token', name);
    if (token.revokedAt !== null) return token;
    const now = clock.nowIso();
    const usable = (t: ApiTokenRow): boolean => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now);
    if (token.role === 'admin' && usable(token) && !store.listApiTokens().some((t) => t.name !== name && t.role === 'admin' && usable(t))) {
      throw new PreconditionError(
        `revoking ${name} would leave no usable admin token; create another first (bulwark token create <name> --role admin)`,
        { name },
      );
    }
    store.revokeApiToken(name, now);
    this.deps.log.info({ token: name, by }, 'API token revoked');
    const revoked = store.getApiToken(name);
    if (!revoked) throw new NotFoundError('API token', name);
    return revoked;
  }

  /**
   * On a catalog with no token at all, makes the admin token `bootstrap-admin` and hands its
   * secret to `persist` (which writes it to a file) BEFORE storing the token: a crash in between
   * leaves a stale file and still no token, so the next start makes a new one and rewrites it.
   * Returns the token made, or undefined when tokens exist already.
   */
  async ensureBootstrapToken(persist: (secret: string) => Promise<void>): Promise<ApiTokenRow | undefined> {
    if (this.deps.store.listApiTokens().length > 0) return undefined;
    const secret = this.newSecret();
    await persist(secret);
    const { token } = this.storeToken({ name: BOOTSTRAP_TOKEN_NAME, role: 'admin' }, 'controller', secret);
    return token;
  }

  /** Appends an audit entry. */
  audit(entry: AuditEntryInsert): void {
    this.deps.store.insertAuditEntry(entry);
  }

  /** Audit entries, newest first. */
  listAudit(filter: AuditFilter): AuditEntryRow[] {
    return this.deps.store.listAuditEntries(filter);
  }

  /** Deletes the audit entries older than the retention (config `access.auditRetentionDays`); returns how many. */
  pruneAudit(retentionMs: number): number {
    const before = new Date(this.deps.clock.nowMs() - retentionMs).toISOString();
    const pruned = this.deps.store.pruneAuditEntries(before);
    if (pruned > 0) this.deps.log.info({ pruned, before }, 'audit entries past their retention pruned');
    return pruned;
  }
}
