import { isValidUserId, MAX_USER_ID_LENGTH } from '@llmops/hashing';
import { parseOrThrow, plainObjectWithin } from '@llmops/platform';
import { z } from 'zod';

/** Largest `items` array of POST /v1/assign/batch. */
export const MAX_BATCH_ITEMS = 1_000;

/** Longest experiment key (the key pattern allows 128 characters). */
const MAX_EXPERIMENT_KEY = 128;

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
    .max(MAX_EXPERIMENT_KEY),
  userId: userIdSchema,
  attributes: attributesSchema.optional(),
});
export type AssignRequest = z.infer<typeof assignRequestSchema>;

const PLAIN_KEYS: ReadonlySet<string> = new Set(['experiment', 'userId']);
const SHAPE_KEYS = Object.keys(assignRequestSchema.shape);

/**
 * True when `body` is `{ experiment, userId }` (no attributes, no other key) with values that
 * assignRequestSchema accepts. False says nothing: the input may still be valid (with
 * attributes, say) and goes to the schema. Meant for decoded JSON (data properties): a getter
 * would be read once here and again by the caller.
 */
function isPlainAssignRequest(body: unknown): body is AssignRequest {
  const b = plainObjectWithin(body, PLAIN_KEYS, SHAPE_KEYS);
  if (!b) return false;
  const { experiment, userId } = b;
  return (
    typeof experiment === 'string' &&
    experiment.length >= 1 &&
    experiment.length <= MAX_EXPERIMENT_KEY &&
    typeof userId === 'string' &&
    userId.length >= 1 &&
    userId.length <= MAX_USER_ID_LENGTH &&
    isValidUserId(userId)
  );
}

/**
 * POST /v1/assign's body, or a 400 with path-level issues. The common shape (no attributes) is
 * checked by hand: the zod parse cost ~2.5 µs per request in a CPU profile of the endpoint. Every
 * other body, and every invalid one, goes through the schema, which stays the definition (and the
 * only source of error messages); assign.request.spec.ts checks on random bodies that both agree.
 */
export function parseAssignRequest(body: unknown): AssignRequest {
  return isPlainAssignRequest(body) ? body : parseOrThrow(assignRequestSchema, body);
}

export const assignBatchRequestSchema = z.strictObject({
  items: z
    .array(assignRequestSchema, { error: 'expected items as an array' })
    .min(1, { error: 'expected at least 1 item' })
    .max(MAX_BATCH_ITEMS, { error: `expected at most ${MAX_BATCH_ITEMS} items` }),
});
export type AssignBatchRequest = z.infer<typeof assignBatchRequestSchema>;
