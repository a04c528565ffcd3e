import { AppError } from '@llmops/platform';

/** No MLFLOW_TRACKING_URI: this deployment exports nothing to MLflow. */
export class MlflowNotConfiguredError extends AppError {
  constructor() {
    super(
      503,
      'mlflow_not_configured',
      'The MLflow export is off: set MLFLOW_TRACKING_URI on the analytics service to the tracking server to export to.',
    );
  }
}

/** The tracking server did not answer, or failed: nothing or part of the export was written; retry. */
export class MlflowUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(
      503,
      'mlflow_unavailable',
      `${message}; retry later (a re-export updates the same runs).`,
      undefined,
      5,
    );
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
