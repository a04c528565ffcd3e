import { z } from 'zod';
import { latencyMs, ratingBound, scoreValue } from './bounds.schema';
import { doc, isoDateTime, nonEmpty, positiveInt, type SchemaKit, STRICT_KIT, userId } from './common.schema';
import { REQUEST_ID_MAX_LENGTH } from './generation-logged.event';
import { armName, experimentKey, opaqueId, scoreName } from './text.schema';

export const FEEDBACK_SUBMITTED = 'io.llmops.feedback.submitted.v1';

export const FEEDBACK_SOURCES = ['user', 'judge', 'reviewer'] as const;
export const THUMBS = ['up', 'down'] as const;
export const DEFAULT_RATING_SCALE = { min: 1, max: 5 } as const;
/** Longest `comment` / `correction` the contract accepts, in UTF-16 code units (string length). */
export const FEEDBACK_COMMENT_MAX_LENGTH = 32_768;
export const FEEDBACK_CORRECTION_MAX_LENGTH = 100_000;
/** Longest `feedbackId`. */
export const FEEDBACK_ID_MAX_LENGTH = 256;

/**
 * `io.llmops.feedback.submitted.v1` on `llmops.feedback.v1` (key: `requestId`, co-partitioned with
 * `llmops.generations.v1`).
 *
 * Feedback about one generation (`requestId`) from a user, an LLM judge or a human reviewer. It
 * carries at least one signal: `rating` (an integer within `ratingScale`, default 1..5; producers
 * always write the scale), `thumbs`, `comment`, `correction` or a non-empty `scores` map.
 *
 * EDIT AND DEDUP RULES (consumers MUST follow them):
 * - `feedbackId` identifies one piece of feedback across its edits; `revision` starts at 1 and an edit
 *   is the same `feedbackId` with a higher `revision` and `edit: { previousRevision }`.
 * - An edit REPLACES every value of the earlier revision of that `feedbackId` (rating, thumbs, scores,
 *   ...); it is never added on top. Aggregates must subtract the old values and add the new ones.
 * - A record with a `revision` lower than the one already applied for that `feedbackId` is stale and
 *   ignored (possible after a replay or a retry).
 * - A duplicate (same `feedbackId`, same `revision`, e.g. a producer retry) must be ignored.
 */
export const buildFeedbackSubmittedData = (k: SchemaKit) =>
  k
    .object({
      feedbackId: opaqueId('feedback id', FEEDBACK_ID_MAX_LENGTH),
      requestId: opaqueId('request id', REQUEST_ID_MAX_LENGTH),
      experiment: experimentKey().optional(),
      arm: armName().optional(),
      userId: userId().optional(),
      // Integer-ness and range are checked against ratingScale below (message: `expected integer 1..5`).
      rating: doc(
        z.number({ error: 'expected an integer rating' }),
        'Integer within ratingScale.',
      ).optional(),
      ratingScale: k
        .object({
          min: ratingBound(),
          max: ratingBound(),
        })
        .refine((s) => s.min < s.max, { error: 'expected min < max' })
        .default({ ...DEFAULT_RATING_SCALE }),
      thumbs: z.enum(THUMBS, { error: 'expected one of up, down' }).optional(),
      comment: nonEmpty('comment', FEEDBACK_COMMENT_MAX_LENGTH).optional(),
      correction: nonEmpty('correction', FEEDBACK_CORRECTION_MAX_LENGTH).optional(),
      scores: z
        .record(scoreName(), scoreValue(), { error: 'expected an object mapping score name to number' })
        .optional(),
      source: z.enum(FEEDBACK_SOURCES, { error: 'expected one of user, judge, reviewer' }),
      latencyMs: latencyMs().optional(),
      timestamp: isoDateTime(),
      receivedAt: isoDateTime(),
      revision: doc(
        positiveInt('integer revision'),
        '1 = first submission; an edit has a higher revision and REPLACES the earlier values of the feedbackId; same feedbackId and revision = duplicate, ignore.',
      ),
      edit: k.object({ previousRevision: positiveInt('integer revision') }).nullable(),
    })
    .superRefine(
      (fb, ctx) => {
        // Runs even when other fields failed (see `when`), so inputs may be partially invalid here.
        const scale =
          fb.ratingScale && Number.isInteger(fb.ratingScale.min) && Number.isInteger(fb.ratingScale.max)
            ? fb.ratingScale
            : DEFAULT_RATING_SCALE;
        if (typeof fb.rating === 'number') {
          if (!Number.isInteger(fb.rating) || fb.rating < scale.min || fb.rating > scale.max) {
            ctx.addIssue({
              code: 'custom',
              path: ['rating'],
              message: `expected integer ${scale.min}..${scale.max}`,
            });
          }
        }
        const hasScores =
          fb.scores !== null && typeof fb.scores === 'object' && Object.keys(fb.scores).length > 0;
        const hasSignal =
          fb.rating !== undefined ||
          fb.thumbs !== undefined ||
          fb.comment !== undefined ||
          fb.correction !== undefined ||
          hasScores;
        if (!hasSignal) {
          ctx.addIssue({
            code: 'custom',
            path: [],
            message:
              'expected at least one signal: rating, thumbs, comment, correction or a non-empty scores',
          });
        }
        if (typeof fb.revision === 'number' && fb.edit !== undefined) {
          if (fb.revision === 1 && fb.edit !== null) {
            ctx.addIssue({
              code: 'custom',
              path: ['edit'],
              message: 'expected null for revision 1 (first submission)',
            });
          } else if (fb.revision > 1 && fb.edit === null) {
            ctx.addIssue({
              code: 'custom',
              path: ['edit'],
              message: 'expected { previousRevision } for revision > 1',
            });
          } else if (
            fb.edit &&
            typeof fb.edit.previousRevision === 'number' &&
            fb.edit.previousRevision >= fb.revision
          ) {
            ctx.addIssue({
              code: 'custom',
              path: ['edit', 'previousRevision'],
              message: `expected previousRevision < revision (${fb.revision})`,
            });
          }
        }
      },
      { when: () => true },
    );

export const FeedbackSubmittedDataSchema = buildFeedbackSubmittedData(STRICT_KIT);
/** Feedback as it is on the wire and after parsing (`ratingScale` always present). */
export type FeedbackSubmittedData = z.infer<typeof FeedbackSubmittedDataSchema>;
/** What a producer passes to `createEvent` (`ratingScale` may be omitted: defaults to 1..5). */
export type FeedbackSubmittedInput = z.input<typeof FeedbackSubmittedDataSchema>;
