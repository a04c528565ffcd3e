import { GenerationLoggedDataSchema, isoDateTime } from '@llmops/contracts';
import type { z } from 'zod';

/**
 * Body of `POST /v1/generations` (and of each item of the batch): the event's data without the
 * fields the service sets (`receivedAt`), with `timestamp` optional (defaults to receipt time).
 * Derived from the contract so the API can never accept what the event would refuse. Strict:
 * unknown fields are errors.
 */
export const logGenerationRequestSchema = GenerationLoggedDataSchema.omit({
  timestamp: true,
  receivedAt: true,
}).extend({
  timestamp: isoDateTime().optional(),
});

export type LogGenerationRequest = z.infer<typeof logGenerationRequestSchema>;
