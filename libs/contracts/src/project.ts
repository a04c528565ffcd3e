import { z } from 'zod';

/**
 * Projects partition every resource of the platform (prompts, experiments, generations, feedback,
 * results, API keys). A project id is lowercase ASCII, URL, label and topic-key safe, 2 to 63
 * characters, and never contains `/` (the experiments topic key uses `/` as separator).
 */
export const PROJECT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** The project of every resource and event that names none (everything created before projects). */
export const DEFAULT_PROJECT = 'default';

export function isProjectId(value: unknown): value is string {
  return typeof value === 'string' && PROJECT_ID_PATTERN.test(value);
}

/** zod schema of a project id. */
export const projectId = () =>
  z
    .string({ error: 'expected a project id' })
    .regex(PROJECT_ID_PATTERN, { error: `expected a project id matching ${PROJECT_ID_PATTERN.source}` });
