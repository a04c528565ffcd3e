import { AUDIT_ACTIONS } from '@llmops/contracts';
import { z } from 'zod';

export const auditRecordResponseSchema = z.object({
  id: z.string().describe('The audit event id'),
  project: z.string(),
  time: z.string().describe('When the change happened (ISO 8601)'),
  actor: z.string().describe('Key id that made the change, or system:<name>'),
  action: z.enum(AUDIT_ACTIONS),
  resource: z.string(),
  source: z.string().describe('The service that made the change'),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  note: z.string().optional(),
  correlationId: z.string().optional().describe('The request that made the change'),
});

export const auditPageResponseSchema = z.object({
  items: z.array(auditRecordResponseSchema).describe('Newest first'),
  nextCursor: z.string().nullable(),
});

export type AuditPageResponse = z.infer<typeof auditPageResponseSchema>;
