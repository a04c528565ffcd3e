import { opaqueId, projectId } from '@llmops/contracts';
import { pageQuerySchema } from '@llmops/platform';
import { z } from 'zod';

/** `GET /v1/audit`: every filter optional; `project` defaults to the key's own. */
export const auditQuerySchema = pageQuerySchema(200, 50).extend({
  project: projectId().optional().describe("Project whose trail to read (default: the key's project)"),
  since: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z' })
    .optional()
    .describe('Only changes at or after this instant'),
  actor: opaqueId('actor', 256).optional().describe('Only changes by this key id (or system:<name>)'),
});

export type AuditQuery = z.infer<typeof auditQuerySchema>;
