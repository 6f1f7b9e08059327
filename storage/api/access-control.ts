/**
 * Who may call what on a storage's BlockStore API. Each client presents a bearer token (gRPC
 * metadata `authorization: Bearer <token>`); the storage's config lists the SHA-256 of each
 * token with a name and a role, and gives a role to calls without a token (`anonymousRole`).
 *
 * Roles:
 * - `agent`: backs up and restores (sessions, chunks, indexes, commits, reads);
 * - `peer-read`: a replica pulling, a peer fetching good copies for a repair: reads only;
 * - `peer-push`: a primary pushing to a replica that cannot reach back: reads, plus chunks
 *   and whole backups added without a session (FindMissing, PutChunks, ImportBackup).
 * No BlockStore method deletes or replaces anything (prune and GC come only as NATS jobs from
 * the controller, run by the storage at its own site), so no credential on the data plane can
 * remove a backup, whatever its role.
 *
 * Enforced by one server interceptor: the call's metadata decides the caller and its role
 * (UNAUTHENTICATED: no usable token; PERMISSION_DENIED: the role does not allow the method),
 * and the request messages of PutChunks and FindMissing are checked for the session rule
 * (`agent` writes chunks into a session; `peer-push` never names one) before any reaches the
 * handler. A method of the server that is not in the table is refused to every role. The token
 * is removed from the metadata the handlers see and is never logged.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigError, AppError } from '../../shared/errors.js';
import { findByTokenSha256 } from '../../shared/crypto/bearer-token.js';
import type { Logger } from '../../shared/log.js';
import { toServiceError } from '../../shared/rpc/grpc-errors.js';
import type { BlockStoreDefinition } from '../../shared/rpc/generated/bulwark/v1/BlockStore.js';
import type { StorageConfig } from '../config.js';

/** A role a client of the BlockStore API can hold. */
export type StorageRole = 'agent' | 'peer-read' | 'peer-push';

/** The access part of the storage config. */
export type AccessConfig = StorageConfig['access'];

type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
/** The methods of the BlockStore service. */
export type BlockStoreMethod = Extract<KnownKeys<BlockStoreDefinition>, string>;

const ALL: readonly StorageRole[] = ['agent', 'peer-read', 'peer-push'];

/**
 * The roles allowed to call each method. Typed over every method of the service, so a method
 * added to the proto does not compile until it is placed here.
 */
export const METHOD_ROLES: Readonly<Record<BlockStoreMethod, readonly StorageRole[]>> = Object.freeze({
  GetDatastoreInfo: ALL,
  ListBackups: ALL,
  GetManifest: ALL,
  GetIndex: ALL,
  GetChunks: ALL,
  FindMissing: ['agent', 'peer-push'],
  PutChunks: ['agent', 'peer-push'],
  ImportBackup: ['peer-push'],
  BeginBackup: ['agent'],
  PutIndex: ['agent'],
  CommitBackup: ['agent'],
  AbortBackup: ['agent'],
});

/** Who is calling: the config's client name (or `anonymous`) and its role. */
export interface Caller {
  readonly client: string;
  readonly role: StorageRole;
}

/** The call carries no usable credential. */
export class UnauthenticatedError extends AppError {
  constructor(reason: string, site: string) {
    super('UNAUTHENTICATED', `storage ${site}: ${reason}`, { details: { site } });
  }
}

/** The caller's role does not allow this method (or this use of it). */
export class AccessDeniedError extends AppError {
  constructor(caller: Caller, method: string, rule?: string) {
    const who = `role ${caller.role} (client ${caller.client})`;
    super(
      'PERMISSION_DENIED',
      rule === undefined ? `${who} may not call BlockStore.${method}` : `${who} may call BlockStore.${method} only ${rule}`,
      { details: { role: caller.role, client: caller.client, method } },
    );
  }
}

const BEARER = /^Bearer ([^\s]+)$/;

/** The method name of a gRPC path (`/bulwark.v1.BlockStore/PutChunks` → `PutChunks`), if BlockStore's. */
export function blockStoreMethodOf(path: string): BlockStoreMethod | undefined {
  const prefix = '/bulwark.v1.BlockStore/';
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  return Object.hasOwn(METHOD_ROLES, name) ? (name as BlockStoreMethod) : undefined;
}

/** Checks the access config once, at start: the same token listed twice is a mistake. */
export function checkAccessConfig(access: AccessConfig, source: string): void {
  const seen = new Map<string, number>();
  access.clients.forEach((c, i) => {
    const first = seen.get(c.tokenSha256);
    if (first !== undefined) throw new ConfigError(source, `access.clients.${i}.tokenSha256`, `the same token as access.clients.${first}`);
    seen.set(c.tokenSha256, i);
  });
}

/**
 * The caller a call's `authorization` metadata values stand for: its token's client, or the
 * anonymous role without a token. Throws UnauthenticatedError on a malformed or unknown token,
 * or on no token where anonymous calls are refused.
 */
export function authenticate(access: AccessConfig, authorization: readonly unknown[], site: string): Caller {
  if (authorization.length === 0) {
    if (access.anonymousRole === 'none') {
      throw new UnauthenticatedError('this storage requires a token (gRPC metadata "authorization: Bearer <token>")', site);
    }
    return { client: 'anonymous', role: access.anonymousRole };
  }
  const value = authorization.length === 1 ? authorization[0] : undefined;
  const match = typeof value === 'string' ? BEARER.exec(value) : null;
  if (!match?.[1]) throw new UnauthenticatedError('the authorization metadata must be one "Bearer <token>"', site);
  const client = findByTokenSha256(access.clients, match[1]);
  if (!client) throw new UnauthenticatedError('the token is not valid here (not in access.clients)', site);
  return { client: client.name, role: client.role };
}

/** Throws AccessDeniedError unless the caller's role may call `method` at all. */
export function authorizeMethod(caller: Caller, method: BlockStoreMethod | undefined, path: string): void {
  if (method === undefined || !METHOD_ROLES[method].includes(caller.role)) throw new AccessDeniedError(caller, method ?? path);
}

function sessionIdOf(message: unknown): string {
  const value = (message as { sessionId?: unknown } | null)?.sessionId;
  return typeof value === 'string' ? value : '';
}

/**
 * Throws AccessDeniedError when a request message breaks the session rule of the caller's
 * role: `agent` opens a PutChunks stream with a session id (its first message); `peer-push`
 * has no session, so none of its PutChunks or FindMissing messages may name one.
 */
export function authorizeMessage(caller: Caller, method: BlockStoreMethod | undefined, message: unknown, index: number): void {
  if (method !== 'PutChunks' && method !== 'FindMissing') return;
  const hasSession = sessionIdOf(message) !== '';
  if (caller.role === 'peer-push' && hasSession) throw new AccessDeniedError(caller, method, 'without a session id');
  if (caller.role === 'agent' && method === 'PutChunks' && index === 0 && !hasSession) {
    throw new AccessDeniedError(caller, method, 'with a session id (a push without one needs the peer-push role)');
  }
}

/** The server interceptor enforcing `access` on every call (see the top of this file). */
export function createAccessInterceptor(access: AccessConfig, site: string, log: Logger): grpc.ServerInterceptor {
  checkAccessConfig(access, `storage ${site} config`);
  log.info({ anonymousRole: access.anonymousRole, clients: access.clients.map((c) => `${c.name}:${c.role}`) }, 'access control on');
  return (descriptor, call) => {
    const method = blockStoreMethodOf(descriptor.path);
    let caller: Caller | undefined;
    let refused = false;
    let messages = 0;
    const refuse = (err: unknown): void => {
      refused = true;
      const status = toServiceError(err, log);
      const code = status.code ?? grpc.status.INTERNAL;
      log.warn({ method: method ?? descriptor.path, peer: call.getPeer(), client: caller?.client, role: caller?.role, code: grpc.status[code], reason: status.details }, 'call refused');
      call.sendStatus({ code, details: status.details ?? 'refused', metadata: status.metadata ?? null });
    };
    // A PutChunks stream reaches its handler only once its first message passed the session
    // rule: a refused stream then never starts a chunk intake, nor ends one half-way.
    let held: (() => void) | undefined;
    const release = (): void => {
      const pass = held;
      held = undefined;
      pass?.();
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            try {
              caller = authenticate(access, metadata.get('authorization'), site);
              authorizeMethod(caller, method, descriptor.path);
            } catch (err) {
              refuse(err);
              return;
            }
            metadata.remove('authorization');
            if (method !== 'PutChunks') {
              nextMetadata(metadata);
              return;
            }
            held = () => nextMetadata(metadata);
            call.startRead();
          },
          onReceiveMessage: (message, nextMessage) => {
            if (refused || !caller) return;
            try {
              authorizeMessage(caller, method, message, messages++);
            } catch (err) {
              refuse(err);
              return;
            }
            nextMessage(message);
            release();
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (refused) return;
            nextHalfClose();
            release();
          },
        });
      },
    });
  };
}
