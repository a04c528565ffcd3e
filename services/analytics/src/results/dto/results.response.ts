/** Response of GET /v1/experiments/{key}/results (`reason` explains nulls). */
import { DECISION_VERDICTS } from '@llmops/contracts';
import { z } from 'zod';

const interval = z.tuple([z.number(), z.number()]).nullable();
const reason = z
  .string()
  .nullable()
  .describe('Why the values next to it are null (e.g. n<2, zero-variance, no-data)');

export const meanResultSchema = z.object({
  n: z.number().int(),
  mean: z.number().nullable(),
  sd: z.number().nullable(),
  ci95: interval.describe('Student t interval, n−1 degrees of freedom'),
  reason,
});

export const armResultSchema = z.object({
  arm: z.string(),
  exposures: z.number().int().describe('Distinct exposed users (first exposure within the window)'),
  generations: z.number().int(),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }),
  costPerRequestUsd: z.number().nullable(),
  costUsd: z.number(),
  tokens: z.object({ prompt: z.number(), completion: z.number(), total: z.number() }),
  rating: meanResultSchema,
  thumbs: z.object({
    n: z.number().int(),
    up: z.number().int(),
    down: z.number().int(),
    rate: z.number().nullable(),
    ci95: interval.describe('Wilson score interval'),
    reason,
  }),
  scores: z.record(z.string(), meanResultSchema),
  corrections: z.number().int(),
  comments: z.number().int(),
});

export const comparisonSchema = z.object({
  arm: z.string(),
  metric: z.string().describe('rating, thumbs or score:<name>'),
  diff: z.number().nullable().describe('arm minus control'),
  relativeLift: z.number().nullable(),
  ci95: interval,
  pValue: z.number().nullable(),
  test: z.enum(['welch-t', 'two-proportion-z']),
  reason,
  sequential: z.object({
    pValue: z.number().nullable(),
    ci95: interval,
    method: z.literal('mSPRT-normal-mixture'),
    reason,
  }),
});

const pValue = z.number().nullable();

export const decisionResultSchema = z
  .object({
    phase: z.number().int(),
    verdict: z.enum(DECISION_VERDICTS).describe('Verdict of the last evaluation'),
    publishedVerdict: z
      .enum(DECISION_VERDICTS)
      .nullable()
      .describe('Verdict of the last decision event of the phase (null: none published yet)'),
    eventId: z.string().nullable().describe('Id of that event'),
    evaluatedAt: z.string(),
    alpha: z.number(),
    winner: z
      .object({ arm: z.string(), prompt: z.object({ name: z.string(), hash: z.string() }) })
      .nullable(),
    breaches: z.array(z.object({ arm: z.string(), guardrail: z.string(), metric: z.string() })),
    primary: z.array(
      z.object({
        metric: z.string(),
        arm: z.string(),
        diff: z.number().nullable().describe('arm minus control'),
        ci95: interval.describe('Always-valid 95% interval (running intersection)'),
        pValue: pValue.describe('Always-valid p-value (running minimum), unadjusted'),
        adjustedPValue: pValue.describe('Holm-adjusted across the treatment arms'),
        decided: z.enum(['better', 'worse']).nullable(),
        futilityPValue: pValue,
        adjustedFutilityPValue: pValue,
        reason,
      }),
    ),
    guardrails: z.array(
      z.object({
        guardrail: z.string(),
        metric: z.string(),
        arm: z.string(),
        scale: z.enum(['difference', 'log-ratio']).nullable(),
        diff: z.number().nullable(),
        relativeChange: z.number().nullable(),
        breachPValue: pValue,
        adjustedBreachPValue: pValue.describe('Holm-adjusted across the treatment arms'),
        nonInferiorityPValue: pValue,
        adjustedNonInferiorityPValue: pValue,
        breached: z.boolean(),
        reason,
      }),
    ),
  })
  .nullable()
  .describe(
    "The decision policy's last evaluation of the current phase; null without a policy or before the first evaluation",
  );

export const resultsResponseSchema = z.object({
  experiment: z.string(),
  window: z.object({ from: z.string(), to: z.string() }),
  control: z.string(),
  arms: z.array(armResultSchema),
  comparisons: z.array(comparisonSchema),
  scoreNames: z
    .object({
      limit: z.number().int().describe('Most score names shown per experiment'),
      droppedValues: z
        .number()
        .int()
        .describe('Score values not aggregated or not shown because their name is beyond the limit'),
      droppedNames: z.array(z.string()).describe('Some of those names (at most 20), sorted'),
    })
    .describe('Score names beyond the per-experiment limit: counted here, never silently lost'),
  srm: z.object({
    observed: z.record(z.string(), z.number()),
    expected: z.record(z.string(), z.number()).nullable(),
    chiSquare: z.number().nullable(),
    pValue: z.number().nullable(),
    mismatch: z.boolean(),
    reason,
  }),
  decision: decisionResultSchema,
  sampleSize: z.object({
    metric: z.enum(['rating', 'thumbs']),
    minimumPerArm: z.number().int(),
    recommendedPerArm: z.number().int(),
    reached: z.boolean(),
    recommendedReached: z.boolean(),
    neededPerArm: z.number().int().nullable(),
    reason,
  }),
});

export type MeanResult = z.infer<typeof meanResultSchema>;
export type ArmResult = z.infer<typeof armResultSchema>;
export type ComparisonResult = z.infer<typeof comparisonSchema>;
export type DecisionResult = z.infer<typeof decisionResultSchema>;
export type ExperimentResults = z.infer<typeof resultsResponseSchema>;
