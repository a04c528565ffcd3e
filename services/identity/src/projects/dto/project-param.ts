import { PROJECT_ID_PATTERN, projectId } from '@llmops/contracts';
import { parseOrThrow } from '@llmops/platform';
import { z } from 'zod';

const projectParamsSchema = z.strictObject({ project: projectId() });

/** The OpenAPI parameter of a project id in a path. */
export const PROJECT_PARAM = {
  name: 'project',
  description: 'Project id',
  example: 'checkout',
  schema: { type: 'string' as const, pattern: PROJECT_ID_PATTERN.source },
};

/** A project id from the path: 400 when malformed (no project can have it), else the id. */
export function projectParam(project: string): string {
  return parseOrThrow(projectParamsSchema, { project }).project;
}
