import * as grpc from '@grpc/grpc-js';
import {
  AppError,
  ChunkMissingError,
  CorruptDataError,
  NotFoundError,
  PreconditionError,
  UnavailableError,
  UnrecoverableDamageError,
  ValidationError,
  type ErrorCode,
} from '../errors.js';
import type { Logger } from '../log.js';

const DETAILS_KEY = 'bulwark-error-details';

const toStatus: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  DATA_LOSS: grpc.status.DATA_LOSS,
  CANCELLED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

const fromStatus = new Map<grpc.status, ErrorCode>(
  Object.entries(toStatus).map(([code, status]) => [status, code as ErrorCode]),
);

/**
 * The gRPC form of an error, once per edge. AppErrors keep their code, message and details;
 * anything else becomes INTERNAL with a generic message and is logged in full here, once.
 */
export function toServiceError(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof AppError) {
    const metadata = new grpc.Metadata();
    metadata.set(DETAILS_KEY, JSON.stringify({ name: err.name, code: err.code, details: err.details }));
    return { code: toStatus[err.code], details: err.message, metadata };
  }
  log.error({ err }, 'unexpected error in call');
  return { code: grpc.status.INTERNAL, details: 'internal error (see the server log)' };
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in err;
}

/** The AppError a failed client call stands for, keeping the server's error class where known. */
export function fromServiceError(err: unknown, target: string): AppError {
  if (err instanceof AppError) return err;
  if (!isServiceError(err)) return new AppError('INTERNAL', `${target}: ${String(err)}`, { cause: err });
  const raw = err.metadata.get(DETAILS_KEY)[0];
  let parsed: { name?: string; details?: Record<string, unknown> } = {};
  if (typeof raw === 'string') {
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      parsed = {};
    }
  }
  const details = parsed.details ?? {};
  const text = (key: string, fallback: string): string => {
    const value = details[key];
    return typeof value === 'string' ? value : fallback;
  };
  const message = err.details || err.message;
  switch (parsed.name) {
    case 'ValidationError':
      return new ValidationError(text('field', ''), text('rule', message));
    case 'NotFoundError':
      return new NotFoundError(text('what', 'object'), text('id', '?'));
    case 'CorruptDataError':
      return new CorruptDataError(text('what', target), text('problem', message), details);
    case 'ChunkMissingError':
      return new ChunkMissingError((details.digests as string[] | undefined) ?? [], details);
    case 'PreconditionError':
      return new PreconditionError(message, details);
    case 'UnrecoverableDamageError':
      return new UnrecoverableDamageError(message, details);
    default:
      break;
  }
  const code = fromStatus.get(err.code) ?? 'INTERNAL';
  if (code === 'UNAVAILABLE') return new UnavailableError(`${target} is unavailable: ${message}`, { cause: err });
  return new AppError(code, message, { cause: err, details });
}

/** Whether a failed call may succeed if repeated (idempotent calls only). */
export function isRetryable(err: unknown): boolean {
  const code = err instanceof AppError ? err.code : undefined;
  return code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED';
}
