import {
  EXPERIMENT_KEY_PATTERN,
  experimentKey,
  isOpaqueId,
  opaqueId,
  text,
  USER_ID_MAX_LENGTH,
  userId,
} from '@llmops/contracts';
import { parseOrThrow, plainObjectWithin } from '@llmops/platform';
import { z } from 'zod';

/** Largest `items` array of POST /v1/assign/batch. */
export const MAX_BATCH_ITEMS = 1_000;

/**
 * The contract's user id: any Unicode text of 1 to 512 UTF-16 code units without control
 * characters or lone surrogates (hashed as UTF-8, like the reference formula).
 */
export const userIdSchema = userId();

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
    EXPERIMENT_KEY_PATTERN.test(experiment) &&
    isOpaqueId(userId, USER_ID_MAX_LENGTH)
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
