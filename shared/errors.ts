/** Conditions a caller can act on; each maps to one gRPC status at the edges. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'DATA_LOSS'
  | 'CANCELLED'
  | 'INTERNAL';

/** Base of every error Bulwark raises on purpose: a code, a message for humans, data for code. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** A value broke a rule; `field` is its dotted path (`disks.0.path`), `rule` what it must satisfy. */
export class ValidationError extends AppError {
  readonly field: string;
  readonly rule: string;

  constructor(field: string, rule: string, options: { cause?: unknown } = {}) {
    super('INVALID_ARGUMENT', `${field || '(value)'}: ${rule}`, { ...options, details: { field, rule } });
    this.field = field;
    this.rule = rule;
  }
}

/** A configuration file or environment variable is unusable; names the source and the field. */
export class ConfigError extends AppError {
  readonly source: string;
  readonly field: string;

  constructor(source: string, field: string, rule: string, options: { cause?: unknown } = {}) {
    super('INVALID_ARGUMENT', `${source}: ${field ? `${field}: ` : ''}${rule}`, {
      ...options,
      details: { source, field, rule },
    });
    this.source = source;
    this.field = field;
  }
}

/** Something named does not exist (a backup, a VM, a job, a session). */
export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${id} not found`, { details: { what, id } });
  }
}

/** A request is well-formed but the system is not in a state to honour it. */
export class PreconditionError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('FAILED_PRECONDITION', message, { details });
  }
}

/** Stored or received bytes fail their own checks (magic, version, checksum, digest). */
export class CorruptDataError extends AppError {
  readonly what: string;

  constructor(what: string, problem: string, details: Record<string, unknown> = {}) {
    super('DATA_LOSS', `${what}: ${problem}`, { details: { what, problem, ...details } });
    this.what = what;
  }
}

/** Chunks a backup references are not in the store (or not durable yet). */
export class ChunkMissingError extends AppError {
  readonly digests: readonly string[];

  constructor(digests: readonly string[], context: Record<string, unknown> = {}) {
    super('FAILED_PRECONDITION', `${digests.length} referenced chunk(s) missing, first ${digests[0] ?? '-'}`, {
      details: { digests: digests.slice(0, 16), count: digests.length, ...context },
    });
    this.digests = digests;
  }
}

/**
 * Stored data is damaged or missing and no peer site could supply a good copy: the affected
 * backups cannot be fully restored from here. Details name the object and the alert raised.
 */
export class UnrecoverableDamageError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('DATA_LOSS', message, { details });
  }
}

/** A peer process or service cannot be reached; retrying later may succeed. */
export class UnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('UNAVAILABLE', message, options);
  }
}

/** The work was cancelled on request. */
export class CancelledError extends AppError {
  constructor(message = 'cancelled') {
    super('CANCELLED', message);
  }
}

/** The message of any thrown value, for logs and reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
