/**
 * Every failure the SDK reports is an LlmopsError carrying the platform's stable error `code`
 * (e.g. `prompt_not_found`, `broker_unavailable`), the HTTP `status` when the platform answered,
 * its human `message` and its `details`.
 */
export class LlmopsError extends Error {
  override name = 'LlmopsError';

  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The platform answered with an error that a retry does not fix (4xx, 500). */
export class LlmopsHttpError extends LlmopsError {
  override name = 'LlmopsHttpError';

  constructor(
    message: string,
    code: string,
    status: number,
    details?: unknown,
    /** The platform's correlation id of the failed request, for its logs. */
    readonly correlationId?: string,
  ) {
    super(message, code, status, details);
  }
}

/**
 * The platform could not take the request now, after every retry: unreachable, timed out, or it
 * answered 429/502/503/504 (`retryAfterMs` is its last Retry-After).
 */
export class LlmopsUnavailableError extends LlmopsError {
  override name = 'LlmopsUnavailableError';

  constructor(
    message: string,
    code: string,
    status?: number,
    details?: unknown,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, code, status, details, options);
  }
}

/** An argument the SDK refused before sending anything; `details.field` names it. */
export class LlmopsValidationError extends LlmopsError {
  override name = 'LlmopsValidationError';

  constructor(field: string, message: string, code = 'validation_failed', details?: Record<string, unknown>) {
    super(`${field}: ${message}`, code, undefined, { field, ...details });
  }
}
