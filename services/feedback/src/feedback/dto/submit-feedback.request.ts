import {
  ARM_NAME_PATTERN,
  armName,
  EXPERIMENT_KEY_PATTERN,
  experimentKey,
  FEEDBACK_ID_MAX_LENGTH,
  FEEDBACK_SOURCES,
  isOpaqueId,
  isoDateTime,
  isWellFormedText,
  LATENCY_MS_MAX,
  latencyMs,
  opaqueId,
  REQUEST_ID_MAX_LENGTH,
  SCORE_ABS_MAX,
  SCORE_NAME_PATTERN,
  scoreName,
  scoreValue,
  text as wellFormedText,
  THUMBS,
  USER_ID_MAX_LENGTH,
  userId,
} from '@llmops/contracts';
import { plainObjectWithin } from '@llmops/platform';
import { z } from 'zod';

export interface RatingScale {
  min: number;
  max: number;
}

const text = (what: string) =>
  wellFormedText(`${what} as a string`).min(1, { error: `expected a non-empty ${what}` });

/**
 * Most named scores one feedback item may carry. Each name becomes a label value in analytics (which
 * tracks a bounded number of distinct names per experiment), so one item cannot flood it.
 */
export const MAX_SCORES_PER_FEEDBACK = 20;

/** Longest ids (characters), the contract's. */
const MAX = {
  feedbackId: FEEDBACK_ID_MAX_LENGTH,
  requestId: REQUEST_ID_MAX_LENGTH,
  userId: USER_ID_MAX_LENGTH,
} as const;

/**
 * Body of `POST /v1/feedback` (and of each batch item). Built per configured rating scale.
 * Field rules mirror `io.llmops.feedback.submitted.v1`; text sizes are checked afterwards in UTF-8
 * bytes (413 field_too_large), not here. Strict: unknown fields are errors.
 */
export function buildSubmitFeedbackRequestSchema(scale: RatingScale) {
  const ratingError = `expected an integer ${scale.min}..${scale.max}`;
  return z
    .strictObject({
      feedbackId: opaqueId('feedback id', MAX.feedbackId).optional(),
      requestId: opaqueId('request id', MAX.requestId),
      experiment: experimentKey().optional(),
      arm: armName().optional(),
      userId: userId().optional(),
      rating: z
        .int({ error: ratingError })
        .min(scale.min, { error: ratingError })
        .max(scale.max, { error: ratingError })
        .optional(),
      thumbs: z.enum(THUMBS, { error: 'expected one of up, down' }).optional(),
      comment: text('comment').optional(),
      correction: text('correction').optional(),
      scores: z
        .record(scoreName(), scoreValue(), {
          error: 'expected an object mapping score name to a finite number',
        })
        .refine((scores) => Object.keys(scores).length <= MAX_SCORES_PER_FEEDBACK, {
          error: `expected at most ${MAX_SCORES_PER_FEEDBACK} scores`,
        })
        .optional(),
      source: z.enum(FEEDBACK_SOURCES, { error: 'expected one of user, judge, reviewer' }),
      latencyMs: latencyMs().optional(),
      timestamp: isoDateTime().optional(),
    })
    .superRefine((fb, ctx) => {
      const hasSignal =
        fb.rating !== undefined ||
        fb.thumbs !== undefined ||
        fb.comment !== undefined ||
        fb.correction !== undefined ||
        (fb.scores !== undefined && Object.keys(fb.scores).length > 0);
      if (!hasSignal) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'expected at least one signal: rating, thumbs, comment, correction or a non-empty scores',
        });
      }
    })
    .meta({
      // The rule above, for the JSON Schema of the API document.
      anyOf: [
        { required: ['rating'] },
        { required: ['thumbs'] },
        { required: ['comment'] },
        { required: ['correction'] },
        { required: ['scores'], properties: { scores: { minProperties: 1 } } },
      ],
    });
}

export type SubmitFeedbackRequest = z.infer<ReturnType<typeof buildSubmitFeedbackRequestSchema>>;

/**
 * The parser of one item for `scale`: the schema's result, with plain items (the common shapes,
 * the SDK's included) accepted by `plainFeedbackRequest` without running the schema.
 */
export function submitFeedbackRequestParser(
  scale: RatingScale,
): (item: unknown) => z.ZodSafeParseResult<SubmitFeedbackRequest> {
  const schema = buildSubmitFeedbackRequestSchema(scale);
  return (item) => {
    const plain = plainFeedbackRequest(item, scale);
    return plain ? { success: true, data: plain } : schema.safeParse(item);
  };
}

/** Fields the hand check below understands (every field of the schema); any other goes to the schema. */
const PLAIN_FIELDS: ReadonlySet<string> = new Set([
  'feedbackId',
  'requestId',
  'experiment',
  'arm',
  'userId',
  'rating',
  'thumbs',
  'comment',
  'correction',
  'scores',
  'source',
  'latencyMs',
  'timestamp',
]);

const timestampSchema = isoDateTime();

const isOptionalText = (v: unknown): boolean =>
  v === undefined || (typeof v === 'string' && v.length > 0 && isWellFormedText(v));

/** Score names and values as the schema's record takes them; null when it must decide. */
function plainScoreCount(scores: unknown): number | null {
  if (scores === undefined) return 0;
  if (typeof scores !== 'object' || scores === null || Object.getPrototypeOf(scores) !== Object.prototype) {
    return null;
  }
  let count = 0;
  for (const name in scores) {
    if (!Object.hasOwn(scores, name) || !SCORE_NAME_PATTERN.test(name)) return null;
    const v = (scores as Record<string, unknown>)[name];
    if (typeof v !== 'number' || !(v >= -SCORE_ABS_MAX && v <= SCORE_ABS_MAX)) return null;
    count++;
  }
  return count <= MAX_SCORES_PER_FEEDBACK ? count : null;
}

/** The schema's fields, hidden ones included: an item naming any outside PLAIN_FIELDS goes to the schema. */
const SHAPE_KEYS = Object.keys(buildSubmitFeedbackRequestSchema({ min: 0, max: 1 }).shape);

const isOptionalId = (v: unknown, max: number): boolean => v === undefined || isOpaqueId(v, max);

/**
 * The request when `item` is a plain one (a JSON object of the schema's fields, with scores as a
 * JSON object) that the schema of `scale` accepts as it is; undefined says nothing (the item may
 * still be valid) and submitFeedbackRequestParser runs the schema, which stays the definition and the only source
 * of error messages. The zod parse was a visible share of a single request's CPU in a profile;
 * submit-feedback.request.spec.ts checks on random items that both agree. Meant for decoded JSON
 * (data properties): a getter would be read once here and again by the caller.
 */
export function plainFeedbackRequest(item: unknown, scale: RatingScale): SubmitFeedbackRequest | undefined {
  const b = plainObjectWithin(item, PLAIN_FIELDS, SHAPE_KEYS);
  if (!b) return undefined;
  const { rating, thumbs, source, latencyMs, experiment, comment, correction, timestamp } = b;
  const scores = plainScoreCount(b.scores);
  const plain =
    isOpaqueId(b.requestId, MAX.requestId) &&
    isOptionalId(b.feedbackId, MAX.feedbackId) &&
    (b.arm === undefined || (typeof b.arm === 'string' && ARM_NAME_PATTERN.test(b.arm))) &&
    isOptionalId(b.userId, MAX.userId) &&
    (experiment === undefined ||
      (typeof experiment === 'string' && EXPERIMENT_KEY_PATTERN.test(experiment))) &&
    (rating === undefined ||
      (typeof rating === 'number' &&
        Number.isInteger(rating) &&
        rating >= scale.min &&
        rating <= scale.max)) &&
    (thumbs === undefined || THUMBS.includes(thumbs as never)) &&
    FEEDBACK_SOURCES.includes(source as never) &&
    (latencyMs === undefined ||
      (typeof latencyMs === 'number' && latencyMs >= 0 && latencyMs <= LATENCY_MS_MAX)) &&
    isOptionalText(comment) &&
    isOptionalText(correction) &&
    scores !== null &&
    (timestamp === undefined || timestampSchema.safeParse(timestamp).success) &&
    // At least one signal.
    (rating !== undefined ||
      thumbs !== undefined ||
      comment !== undefined ||
      correction !== undefined ||
      scores > 0);
  return plain ? (b as SubmitFeedbackRequest) : undefined;
}
