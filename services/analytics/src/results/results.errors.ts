import { NotFoundError } from '@llmops/platform';

export class ExperimentNotFoundError extends NotFoundError {
  constructor(key: string) {
    super(
      'experiment_not_found',
      `experiment "${key}" is unknown to analytics (no experiment event consumed yet)`,
      {
        experiment: key,
      },
    );
  }
}
