import { experimentKey, opaqueId, text, userId } from '@llmops/contracts';
import { z } from 'zod';

/** Largest `items` array of POST /v1/assign/batch. */
export const MAX_BATCH_ITEMS = 1_000;

/** Targeting attributes of an assignment. */
export const attributesSchema = z
  .record(
    opaqueId('attribute name', 128),
    z.union([text('a string', 1024), z.number(), z.boolean()], {
      error: 'expected a string (<= 1024 characters), number or boolean',
    }),
    { error: 'expected an object of attributes' },
  )
  .refine((a) => Object.keys(a).length <= 100, { error: 'expected at most 100 attributes' });

export const assignRequestSchema = z.strictObject({
  experiment: experimentKey(),
  /**
   * The contract's user id: any Unicode text of 1 to 512 UTF-16 code units without control
   * characters or lone surrogates (hashed as UTF-8, like the reference formula).
   */
  userId: userId(),
  attributes: attributesSchema.optional(),
});
export type AssignRequest = z.infer<typeof assignRequestSchema>;

export const assignBatchRequestSchema = z.strictObject({
  items: z
    .array(assignRequestSchema, { error: 'expected items as an array' })
    .min(1, { error: 'expected at least 1 item' })
    .max(MAX_BATCH_ITEMS, { error: `expected at most ${MAX_BATCH_ITEMS} items` }),
});
export type AssignBatchRequest = z.infer<typeof assignBatchRequestSchema>;
