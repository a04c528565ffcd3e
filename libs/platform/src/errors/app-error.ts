/**
 * Domain errors carry an HTTP status and a stable machine-readable `code`. Use cases throw
 * them; the single error filter turns them into `{ error: { code, message, details } }`.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Seconds for a Retry-After header (503/429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailedError extends AppError {
  constructor(issues: ValidationIssue[], message?: string) {
    super(
      400,
      'validation_failed',
      message ?? issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; '),
      {
        issues,
      },
    );
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(404, code, message, details);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
  }
}

/** The broker did not acknowledge in time: the caller should retry; nothing was promised. */
export class KafkaUnavailableError extends AppError {
  constructor(
    message = 'The event broker is unavailable; nothing was accepted. Retry later.',
    cause?: unknown,
  ) {
    super(503, 'broker_unavailable', message, undefined, 5);
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
