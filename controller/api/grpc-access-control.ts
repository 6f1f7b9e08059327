/**
 * The server interceptor that enforces access on every call of the controller's API
 * (controller/access/api-access.ts decides; this is the gRPC edge):
 * - the caller is the token in the metadata `authorization: Bearer <token>`, or the configured
 *   anonymous role without one; no usable token is UNAUTHENTICATED, a role weaker than the
 *   method's (controller/access/method-roles.ts) is PERMISSION_DENIED, and both messages name the
 *   role held, the role needed and what to do;
 * - every refused call, and every call of a mutating method whatever its outcome, is written to
 *   the audit log BEFORE its status goes to the client: a client that saw its call end can find
 *   it in `bulwark audit`. A refused call's request message is read (not handled) first, so the
 *   audit entry says what was attempted;
 * - handlers never see the token: it is removed from the metadata, and replaced by the caller's
 *   name and role (`bulwark-caller-token`, `bulwark-caller-role`; any such keys a client sends
 *   are overwritten). Neither the token nor any secret field of a request is logged or audited.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { toServiceError } from '../../shared/rpc/grpc-errors.js';
import { ApiUnauthenticatedError, type ApiAccess, type ApiCaller } from '../access/api-access.js';
import type { MethodAccess } from '../access/method-roles.js';
import type { ApiRole } from '../catalog/access-store.js';

/** Metadata keys the interceptor sets for handlers: who is calling. */
export const CALLER_TOKEN_KEY = 'bulwark-caller-token';
export const CALLER_ROLE_KEY = 'bulwark-caller-role';

const SERVICE_PREFIX = '/bulwark.v1.Controller/';
/** A request summary in the audit log is cut to this many characters. */
const MAX_REQUEST_CHARS = 2000;
/** Request fields whose values are never written anywhere. */
const SECRET_FIELD = /token$|secret|passphrase|password|credential|authorization|^key$|privatekey/i;

/** The method name of a gRPC path (`/bulwark.v1.Controller/StartBackup` → `StartBackup`); other paths as they are. */
export function controllerMethodOf(path: string): string {
  return path.startsWith(SERVICE_PREFIX) ? path.slice(SERVICE_PREFIX.length) : path;
}

/**
 * A request as audit JSON: fields left at their proto default (empty strings and lists) dropped,
 * secret-looking fields replaced by `[redacted]`, long results cut.
 */
export function summarizeRequest(message: unknown): string {
  const clean = (value: unknown, key: string): unknown => {
    if (key !== '' && SECRET_FIELD.test(key) && value !== '' && value !== null && value !== undefined) return '[redacted]';
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
    if (Array.isArray(value)) return value.map((v) => clean(v, ''));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
        out[k] = clean(v, k);
      }
      return out;
    }
    return value;
  };
  const text = JSON.stringify(clean(message, '')) ?? 'null';
  return text.length > MAX_REQUEST_CHARS ? `${text.slice(0, MAX_REQUEST_CHARS)}…(cut)` : text;
}

/** The caller a handler is serving, from the metadata the interceptor set. */
export function callerOf(metadata: grpc.Metadata): { tokenName: string; role: ApiRole | undefined } {
  const name = metadata.get(CALLER_TOKEN_KEY)[0];
  const role = metadata.get(CALLER_ROLE_KEY)[0];
  return {
    tokenName: typeof name === 'string' ? name : 'anonymous',
    role: role === 'viewer' || role === 'operator' || role === 'admin' ? role : undefined,
  };
}

function outcomeOf(code: grpc.status): string {
  return code === grpc.status.OK ? 'ok' : (grpc.status[code] ?? String(code));
}

/** The interceptor enforcing `access` on every call (see the top of this file). */
export function createApiAccessInterceptor(access: ApiAccess, clock: Clock, log: Logger): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = controllerMethodOf(descriptor.path);
    let caller: ApiCaller | undefined;
    let entry: MethodAccess | undefined;
    let refusal: unknown;
    let presentedToken = false;
    let request: string | null = null;
    let audited = false;

    const audit = (outcome: string, error: string | null): void => {
      if (audited) return;
      audited = true;
      const known = refusal instanceof ApiUnauthenticatedError ? refusal.token : undefined;
      try {
        access.audit({
          at: clock.nowIso(),
          tokenName: caller?.tokenName ?? known?.name ?? (presentedToken ? '-' : 'anonymous'),
          tokenId: caller?.tokenId ?? known?.id ?? null,
          role: caller?.role ?? null,
          method,
          request,
          outcome,
          error,
        });
      } catch (err) {
        // The call's own outcome stands; a lost audit entry is logged in full, loudly.
        log.error({ err, method, token: caller?.tokenName, outcome }, 'audit entry not written');
      }
    };

    const refuse = (): void => {
      const status = toServiceError(refusal, log);
      const code = status.code ?? grpc.status.INTERNAL;
      audit(outcomeOf(code), status.details ?? null);
      log.warn(
        { method, peer: call.getPeer(), token: caller?.tokenName, role: caller?.role, code: grpc.status[code], reason: status.details },
        'call refused',
      );
      call.sendStatus({ code, details: status.details ?? 'refused', metadata: status.metadata ?? null });
    };

    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const authorization = metadata.get('authorization');
            presentedToken = authorization.length > 0;
            try {
              caller = access.authenticate(authorization, method);
              entry = access.authorize(caller, method);
            } catch (err) {
              refusal = err;
              // Read the request (never handed on) so the audit entry says what was attempted.
              call.startRead();
              return;
            }
            metadata.remove('authorization');
            metadata.set(CALLER_TOKEN_KEY, caller.tokenName);
            metadata.set(CALLER_ROLE_KEY, caller.role);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (refusal !== undefined) {
              if (audited) return;
              request = summarizeRequest(message);
              refuse();
              return;
            }
            if (entry?.mutates && request === null) request = summarizeRequest(message);
            nextMessage(message);
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (refusal !== undefined) {
              if (!audited) refuse();
              return;
            }
            nextHalfClose();
          },
        });
      },
      sendStatus: (status, next) => {
        if (entry?.mutates) audit(outcomeOf(status.code), status.code === grpc.status.OK ? null : status.details);
        next(status);
      },
    });
  };
}
