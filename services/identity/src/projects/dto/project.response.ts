import { z } from 'zod';
import type { Project } from '../../persistence/project.repository';

export const projectResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string().describe('ISO 8601'),
  createdBy: z.string().describe('Key id that created the project (system:identity for default)'),
});

export type ProjectResponse = z.infer<typeof projectResponseSchema>;

export function toProjectResponse(p: Project): ProjectResponse {
  return { id: p.id, name: p.name, createdAt: p.createdAt, createdBy: p.createdBy };
}
