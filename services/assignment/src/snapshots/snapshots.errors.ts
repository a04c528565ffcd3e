import { AppError } from '@llmops/platform';

/** This replica already holds its most long polls; plain reads (without `wait`) still answer. */
export class TooManyWaitersError extends AppError {
  constructor(max: number) {
    super(
      503,
      'too_many_waiters',
      `This replica already holds ${max} long polls; retry later, or read without wait.`,
      { max },
      1,
    );
  }
}
