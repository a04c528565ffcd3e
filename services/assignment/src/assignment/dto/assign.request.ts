import { isValidUserId, MAX_USER_ID_LENGTH } from '@llmops/hashing';
import { z } from 'zod';

/** Largest `items` array of POST /v1/assign/batch. */
export const MAX_BATCH_ITEMS = 1_000;

export const userIdSchema = z
  .string({ error: 'expected userId as a string' })
  .min(1, { error: 'expected a non-empty userId' })
  .max(MAX_USER_ID_LENGTH, { error: `expected a userId of at most ${MAX_USER_ID_LENGTH} characters` })
  .refine(isValidUserId, {
    error: 'expected well-formed UTF-16 (no lone surrogates): user ids are hashed as UTF-8',
  });

export const attributesSchema = z
  .record(
    z.string().max(128, { error: 'expected attribute names of at most 128 characters' }),
    z.union([z.string().max(1024), z.number(), z.boolean()], {
      error: 'expected a string (<= 1024 characters), number or boolean',
    }),
    { error: 'expected an object of attributes' },
  )
  .refine((a) => Object.keys(a).length <= 100, { error: 'expected at most 100 attributes' });

export const assignRequestSchema = z.strictObject({
  experiment: z
    .string({ error: 'expected an experiment key' })
    .min(1, { error: 'expected an experiment key' })
    .max(128),
  userId: userIdSchema,
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
