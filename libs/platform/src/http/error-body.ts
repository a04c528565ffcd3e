import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import { AppError, ValidationFailedError } from '../errors/app-error';
import { zodIssues } from '../errors/validation';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  retryAfterSeconds?: number;
  /** True when the cause must be logged and hidden from the client. */
  internal: boolean;
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The request body is empty; send a JSON object.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'The request body is larger than this endpoint accepts.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send the body as application/json.',
  },
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'invalid_url',
    message: 'The request path is not valid percent-encoded UTF-8.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'bad_request',
    message: 'Content-Length does not match the body.',
  },
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** Driver errors that mean "cannot reach MongoDB" (matched by name: mongoose bundles its own driver copy). */
const DATABASE_UNAVAILABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'MongoPoolClearedError',
  // The operation's deadline (MONGODB_OPERATION_TIMEOUT_MS) passed: the database is frozen or too slow.
  'MongoOperationTimeoutError',
]);

/** The server's own `maxTimeMS` expiry (MaxTimeMSExpired). */
const MAX_TIME_MS_EXPIRED = 50;

/** True for driver errors that mean the database cannot be reached or did not answer in time. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (DATABASE_UNAVAILABLE.has(err.name)) return true;
  if (err.name === 'MongoServerError') return (err as { code?: unknown }).code === MAX_TIME_MS_EXPIRED;
  // insertMany/bulkWrite wrap a passed deadline into a bulk error that has no per-document errors.
  if (err.name === 'MongoBulkWriteError') {
    const { writeErrors } = err as { writeErrors?: unknown };
    const none = writeErrors === undefined || (Array.isArray(writeErrors) && writeErrors.length === 0);
    return none && err.message.startsWith('Timed out');
  }
  return false;
}

/** Maps anything thrown to the platform's stable error body. */
export function mapError(err: unknown, correlationId: string): MappedError {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: {
        error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
      },
      retryAfterSeconds: err.retryAfterSeconds,
      internal: err.status >= 500 && err.status !== 503,
    };
  }
  if (err instanceof z.ZodError) return mapError(new ValidationFailedError(zodIssues(err)), correlationId);
  if (isDatabaseUnavailable(err)) {
    return {
      status: 503,
      body: {
        error: {
          code: 'database_unavailable',
          message: 'The database is unavailable; nothing was changed. Retry later.',
        },
      },
      retryAfterSeconds: 5,
      internal: false,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? String((response as { message: unknown }).message)
        : err.message;
    if (status >= 500) return internalError(correlationId);
    return { status, body: { error: { code: STATUS_CODES[status] ?? 'error', message } }, internal: false };
  }
  const f = err as FastifyLikeError;
  if (f && typeof f === 'object' && typeof f.code === 'string' && FASTIFY_CODES[f.code]) {
    const known = FASTIFY_CODES[f.code];
    return {
      status: known.status,
      body: { error: { code: known.code, message: known.message } },
      internal: false,
    };
  }
  if (
    f &&
    typeof f === 'object' &&
    typeof f.statusCode === 'number' &&
    f.statusCode >= 400 &&
    f.statusCode < 500
  ) {
    return {
      status: f.statusCode,
      body: {
        error: { code: STATUS_CODES[f.statusCode] ?? 'bad_request', message: f.message ?? 'Bad request' },
      },
      internal: false,
    };
  }
  return internalError(correlationId);
}

function internalError(correlationId: string): MappedError {
  return {
    status: 500,
    body: {
      error: {
        code: 'internal_error',
        message: `An internal error occurred. Quote correlation id ${correlationId} when reporting it.`,
        details: { correlationId },
      },
    },
    internal: true,
  };
}
