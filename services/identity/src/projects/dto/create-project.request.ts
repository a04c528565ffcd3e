import { nonEmptyText, projectId } from '@llmops/contracts';
import { z } from 'zod';

export const createProjectRequestSchema = z.strictObject({
  id: projectId().describe('Project id: lowercase letters, digits and "-", 2-63 characters. Never reused.'),
  name: nonEmptyText('project name', 128).optional().describe('Display name (defaults to the id).'),
});

export type CreateProjectRequest = z.infer<typeof createProjectRequestSchema>;
