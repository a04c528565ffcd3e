import { armName, experimentKey, isoDateTime, positiveInt, userId } from '@llmops/contracts';
import { z } from 'zod';
import { attributesSchema, MAX_BATCH_ITEMS } from './assign.request';

/** One exposure an SDK assigned locally: what it served, to verify against the server's own assignment. */
export const clientExposureSchema = z.strictObject({
  experiment: experimentKey(),
  userId: userId(),
  arm: armName(),
  phase: positiveInt('integer phase'),
  /** When the SDK assigned; the exposure's time (default: when the server receives it). */
  assignedAt: isoDateTime().optional(),
  /** The attributes the SDK assigned with; needed for experiments with targeting rules. */
  attributes: attributesSchema.optional(),
});
export type ClientExposure = z.infer<typeof clientExposureSchema>;

export const recordExposuresRequestSchema = z.strictObject({
  items: z
    .array(clientExposureSchema, { error: 'expected items as an array' })
    .min(1, { error: 'expected at least 1 item' })
    .max(MAX_BATCH_ITEMS, { error: `expected at most ${MAX_BATCH_ITEMS} items` }),
});
export type RecordExposuresRequest = z.infer<typeof recordExposuresRequestSchema>;
