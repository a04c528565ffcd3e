import {
  experimentKey,
  FEEDBACK_SOURCES,
  isoDateTime,
  nonEmpty,
  nonNegativeFinite,
  SCORE_NAME_PATTERN,
  THUMBS,
  userId,
} from '@llmops/contracts';
import { z } from 'zod';

export interface RatingScale {
  min: number;
  max: number;
}

const text = (what: string) =>
  z.string({ error: `expected ${what} as a string` }).min(1, { error: `expected a non-empty ${what}` });

/**
 * Body of `POST /v1/feedback` (and of each batch item). Built per configured rating scale.
 * Field rules mirror `io.llmops.feedback.submitted.v1`; text sizes are checked afterwards in UTF-8
 * bytes (413 field_too_large), not here. Strict: unknown fields are errors.
 */
export function buildSubmitFeedbackRequestSchema(scale: RatingScale) {
  const ratingError = `expected an integer ${scale.min}..${scale.max}`;
  return z
    .strictObject({
      feedbackId: nonEmpty('feedback id', 256).optional(),
      requestId: nonEmpty('request id', 256),
      experiment: experimentKey().optional(),
      arm: nonEmpty('arm name', 128).optional(),
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
        .record(
          z.string().regex(SCORE_NAME_PATTERN, {
            error: 'expected a score name matching ^[a-zA-Z0-9_.-]{1,64}$',
          }),
          z.number({ error: 'expected a finite number' }),
          { error: 'expected an object mapping score name to a finite number' },
        )
        .optional(),
      source: z.enum(FEEDBACK_SOURCES, { error: 'expected one of user, judge, reviewer' }),
      latencyMs: nonNegativeFinite().optional(),
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
    });
}

export type SubmitFeedbackRequestSchema = ReturnType<typeof buildSubmitFeedbackRequestSchema>;
export type SubmitFeedbackRequest = z.infer<SubmitFeedbackRequestSchema>;
