/**
 * API tokens and the audit log in the catalog's SQLite file (tables `api_tokens` and
 * `audit_log`, migration 7 in sqlite-catalog.ts). SqliteCatalog delegates the AccessStore
 * methods here. Only the SHA-256 of a token's secret is stored.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiRoles, ApiTokenExistsError, type AccessStore, type ApiTokenRow, type AuditEntryInsert, type AuditEntryRow, type AuditFilter } from './access-store.js';
import { whereClause } from './sqlite-clauses.js';

/** Migration 7: API tokens and the audit log. */
export const ACCESS_MIGRATION_SQL = `
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT
  );
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    token_name TEXT NOT NULL,
    token_id TEXT,
    role TEXT,
    method TEXT NOT NULL,
    request TEXT,
    outcome TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE INDEX audit_log_token ON audit_log (token_name, at);
`;

interface ApiTokenRecord {
  id: string;
  name: string;
  role: string;
  token_sha256: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

interface AuditRecord {
  id: number;
  at: string;
  token_name: string;
  token_id: string | null;
  role: string | null;
  method: string;
  request: string | null;
  outcome: string;
  error: string | null;
}

const RoleSchema = z.enum(ApiRoles);

export class SqliteAccessStore implements AccessStore {
  constructor(private readonly db: Database.Database) {}

  insertApiToken(t: ApiTokenRow): void {
    const info = this.db
      .prepare(
        `INSERT INTO api_tokens (id, name, role, token_sha256, created_at, created_by, expires_at, revoked_at, last_used_at)
         VALUES (@id, @name, @role, @tokenSha256, @createdAt, @createdBy, @expiresAt, @revokedAt, @lastUsedAt)
         ON CONFLICT (name) DO NOTHING`,
      )
      .run({ ...t });
    if (info.changes !== 1) throw new ApiTokenExistsError(t.name);
  }

  getApiToken(name: string): ApiTokenRow | undefined {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE name = ?').get(name) as ApiTokenRecord | undefined;
    return row && toToken(row);
  }

  listApiTokens(): ApiTokenRow[] {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, name').all() as ApiTokenRecord[]).map(toToken);
  }

  revokeApiToken(name: string, at: string): boolean {
    return this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(at, name).changes === 1;
  }

  touchApiToken(id: string, at: string): void {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  insertAuditEntry(e: AuditEntryInsert): void {
    this.db
      .prepare(
        `INSERT INTO audit_log (at, token_name, token_id, role, method, request, outcome, error)
         VALUES (@at, @tokenName, @tokenId, @role, @method, @request, @outcome, @error)`,
      )
      .run({ ...e });
  }

  listAuditEntries(filter: AuditFilter): AuditEntryRow[] {
    const where = whereClause({
      since: ['at >= @since', filter.since],
      tokenName: ['token_name = @tokenName', filter.tokenName],
      method: ['method = @method', filter.method],
    });
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${where.sql} ORDER BY at DESC, id DESC LIMIT @limit`)
      .all({ ...where.values, limit: filter.limit }) as AuditRecord[];
    return rows.map(toAudit);
  }

  pruneAuditEntries(before: string): number {
    return this.db.prepare('DELETE FROM audit_log WHERE at < ?').run(before).changes;
  }
}

function toToken(r: ApiTokenRecord): ApiTokenRow {
  return {
    id: r.id,
    name: r.name,
    role: RoleSchema.parse(r.role),
    tokenSha256: r.token_sha256,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

function toAudit(r: AuditRecord): AuditEntryRow {
  return {
    id: r.id,
    at: r.at,
    tokenName: r.token_name,
    tokenId: r.token_id,
    role: r.role === null ? null : RoleSchema.parse(r.role),
    method: r.method,
    request: r.request,
    outcome: r.outcome,
    error: r.error,
  };
}
