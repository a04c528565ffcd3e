import { z } from 'zod';

/**
 * Finite bounds of every number an event carries. Analytics keeps counts, sums and sums of squares
 * per arm; with these bounds each of them stays finite, and far from the largest double, over
 * 10^12 events: the largest sum of squares is 10^12 x (8.64e7 ms)^2 ~ 7.5e27 for latencies,
 * 10^12 x (1e6)^2 = 1e24 for scores, 1e20 for costs and 1e26 for token counts. Values outside
 * are refused by the contracts, and so by every HTTP endpoint (400 with the field path).
 *
 * Numbers that are never summed still have bounds: integers (phase, revision, version, hash
 * version, previous revision) are safe integers (|n| <= 2^53 - 1, `z.int()`), fractions
 * (trafficAllocation, layer range) lie in [0, 1], and the numbers inside free JSON (metadata,
 * spec params, targeting values) are finite, which is what JSON can carry.
 */

/** Largest `latencyMs` (generation and feedback): 24 hours. */
export const LATENCY_MS_MAX = 86_400_000;

/** Largest `costUsd` of one generation. */
export const COST_USD_MAX = 10_000;

/** Largest token count (`usage.promptTokens`, `usage.completionTokens`): an integer. */
export const TOKEN_COUNT_MAX = 10_000_000;

/** Largest magnitude of a named score: every score lies in [-SCORE_ABS_MAX, SCORE_ABS_MAX]. */
export const SCORE_ABS_MAX = 1_000_000;

/** Rating scales (`ratingScale.min`, `ratingScale.max`) are integers in [-RATING_ABS_MAX, RATING_ABS_MAX]. */
export const RATING_ABS_MAX = 1_000_000;

/** Largest arm weight. Weights are relative (an arm gets weight / sum of weights of the traffic). */
export const ARM_WEIGHT_MAX = 1_000_000;

/** A finite number in [min, max]; the message names the range, so a client knows what to send. */
export const boundedNumber = (min: number, max: number) => {
  const error = `expected a finite number between ${min} and ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
};

/** An integer in [min, max]. */
export const boundedInt = (min: number, max: number) => {
  const error = `expected an integer between ${min} and ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
};

export const latencyMs = () => boundedNumber(0, LATENCY_MS_MAX);
export const costUsd = () => boundedNumber(0, COST_USD_MAX);
export const tokenCount = () => boundedInt(0, TOKEN_COUNT_MAX);
export const scoreValue = () => boundedNumber(-SCORE_ABS_MAX, SCORE_ABS_MAX);
export const ratingBound = () => boundedInt(-RATING_ABS_MAX, RATING_ABS_MAX);
export const armWeight = () => boundedNumber(0, ARM_WEIGHT_MAX);
