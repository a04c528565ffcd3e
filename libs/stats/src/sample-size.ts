/**
 * Per-arm sample size for a two-sided test at level α with the given power, to detect the
 * currently observed difference (a planning aid, not a test).
 *   Means (normal approximation):  n = (z_{1−α/2} + z_{power})² (s_c² + s_t²) / Δ².
 *   Proportions (Fleiss, Levin & Paik 2003, eq. 4.14 without continuity correction):
 *     n = ( z_{1−α/2} √(2p̄(1 − p̄)) + z_{power} √(p_c(1 − p_c) + p_t(1 − p_t)) )² / Δ²,  p̄ = (p_c + p_t)/2.
 */
import { normalQuantile } from './normal';
import { fail, ok, type DegenerateReason, type StatResult } from './result';
import { checkProportion, moments, type MeanStats, type ProportionStats } from './sufficient-stats';

interface PlanOptions {
  /** Two-sided significance level; default 0.05. */
  readonly alpha?: number;
  /** Desired power; default 0.8. */
  readonly power?: number;
}

export type SampleSizeInput =
  | ({ readonly kind: 'mean'; readonly control: MeanStats; readonly treatment: MeanStats } & PlanOptions)
  | ({
      readonly kind: 'proportion';
      readonly control: ProportionStats;
      readonly treatment: ProportionStats;
    } & PlanOptions);

export interface SampleSizeResult {
  /** Observations needed in each arm, rounded up. */
  readonly neededPerArm: number;
  /** The unrounded value of the formula. */
  readonly exactPerArm: number;
  readonly diff: number;
  readonly alpha: number;
  readonly power: number;
}

export type SampleSizeFailureReason = 'invalid-input' | 'no-data' | 'n<2' | 'zero-variance' | 'zero-effect';

/** Per-arm n for the observed effect; a failure (never NaN/Infinity) when it cannot be planned. */
export function sampleSize(input: SampleSizeInput): StatResult<SampleSizeResult, SampleSizeFailureReason> {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) {
    return fail('invalid-input', `alpha and power must be in (0, 1); got alpha=${alpha}, power=${power}`);
  }
  const zAlpha = normalQuantile(1 - alpha / 2);
  const zPower = normalQuantile(power);
  let diff: number;
  let exactPerArm: number;
  if (input.kind === 'mean') {
    const c = moments(input.control);
    if (!c.ok) return c;
    const t = moments(input.treatment);
    if (!t.ok) return t;
    diff = t.value.mean - c.value.mean;
    if (diff === 0) return fail('zero-effect', 'the observed difference is 0; no finite sample detects it');
    const varianceSum = c.value.variance + t.value.variance;
    if (varianceSum === 0) return fail('zero-variance', 'both arms have zero variance');
    exactPerArm = ((zAlpha + zPower) ** 2 * varianceSum) / (diff * diff);
  } else {
    const c = checkProportion(input.control);
    if (!c.ok) return c;
    const t = checkProportion(input.treatment);
    if (!t.ok) return t;
    const pc = input.control.successes / input.control.n;
    const pt = input.treatment.successes / input.treatment.n;
    diff = pt - pc;
    if (diff === 0) return fail('zero-effect', 'the observed difference is 0; no finite sample detects it');
    const pBar = (pc + pt) / 2;
    const root =
      zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zPower * Math.sqrt(pc * (1 - pc) + pt * (1 - pt));
    exactPerArm = (root * root) / (diff * diff);
  }
  return ok({ neededPerArm: Math.ceil(exactPerArm), exactPerArm, diff, alpha, power });
}

export interface SampleSizeStatusInput {
  /** Observations so far in every arm (control included). */
  readonly armCounts: readonly number[];
  /** Floor below which results are not shown as conclusive; default 200. */
  readonly minimumPerArm?: number;
  /** Target the UI recommends; default 500. */
  readonly recommendedPerArm?: number;
  /** If given, neededPerArm is planned from the observed effect. */
  readonly effect?: SampleSizeInput;
}

export interface SampleSizeStatus {
  readonly minimumPerArm: number;
  readonly recommendedPerArm: number;
  /** True iff there is at least one arm and every arm has n ≥ minimumPerArm. */
  readonly reached: boolean;
  /** True iff there is at least one arm and every arm has n ≥ recommendedPerArm. */
  readonly recommendedReached: boolean;
  /** Planned per-arm n for the observed effect, or null when not requested or not computable. */
  readonly neededPerArm: number | null;
  /** Why neededPerArm is null; null when it is a number or no effect was supplied. */
  readonly neededReason: DegenerateReason | null;
}

/** Progress of an experiment against its sample-size thresholds. */
export function sampleSizeStatus(input: SampleSizeStatusInput): SampleSizeStatus {
  const minimumPerArm = input.minimumPerArm ?? 200;
  const recommendedPerArm = input.recommendedPerArm ?? 500;
  const hasArms = input.armCounts.length > 0;
  const planned = input.effect ? sampleSize(input.effect) : null;
  return {
    minimumPerArm,
    recommendedPerArm,
    reached: hasArms && input.armCounts.every((n) => n >= minimumPerArm),
    recommendedReached: hasArms && input.armCounts.every((n) => n >= recommendedPerArm),
    neededPerArm: planned?.ok ? planned.value.neededPerArm : null,
    neededReason: planned && !planned.ok ? planned.reason : null,
  };
}
