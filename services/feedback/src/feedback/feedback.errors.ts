import { AppError } from '@llmops/platform';

/** MongoDB (the revision store) is unreachable: like a broker outage, nothing was accepted. */
export class RevisionStoreUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(
      503,
      'database_unavailable',
      'The feedback revision store is unavailable; nothing was accepted. Retry later with the same feedbackId.',
      undefined,
      5,
    );
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
