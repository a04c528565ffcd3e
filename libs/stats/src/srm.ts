/**
 * Sample-ratio-mismatch check: Pearson's (1900) chi-square goodness of fit of the observed arm
 * counts against the configured traffic weights, normalised by their sum:
 *   X² = Σ (O_i − E_i)² / E_i,  E_i = N · w_i / Σw,  p = P(χ²_{k−1} > X²).
 * The default threshold 0.001 follows common SRM practice (Fabijan et al. 2019): the check runs
 * on every experiment continuously, so it must be strict to keep false alarms rare.
 */
import { chiSquareSf } from './chi-square';
import { fail, ok, type StatResult } from './result';

export interface SrmResult {
  /** Observed counts, aligned with the input. */
  readonly observed: readonly number[];
  /** Expected counts under the weights; 0 for zero-weight arms. */
  readonly expected: readonly number[];
  /** Pearson statistic; Infinity when a zero-weight arm received traffic. */
  readonly chiSquare: number;
  /** Degrees of freedom: arms with positive weight − 1. */
  readonly df: number;
  readonly pValue: number;
  /** pValue < threshold. */
  readonly mismatch: boolean;
  /** Indices of arms with weight 0 that nevertheless received traffic. */
  readonly zeroWeightArmsWithTraffic: readonly number[];
}

export type SrmFailureReason = 'invalid-input' | 'no-data' | 'fewer-than-2-arms';

/**
 * Arms with weight 0 and no traffic are ignored (a disabled arm). An arm with weight 0 but
 * observed > 0 is an immediate mismatch (χ² = ∞, p = 0): assignment is broken, not unlucky.
 */
export function sampleRatioMismatch(
  observed: readonly number[],
  weights: readonly number[],
  threshold = 0.001,
): StatResult<SrmResult, SrmFailureReason> {
  if (observed.length !== weights.length) {
    return fail('invalid-input', `observed has ${observed.length} arms but weights has ${weights.length}`);
  }
  if (!(threshold > 0 && threshold < 1))
    return fail('invalid-input', `threshold must be in (0, 1); got ${threshold}`);
  if (observed.some((o) => !Number.isInteger(o) || o < 0)) {
    return fail('invalid-input', 'observed counts must be non-negative integers');
  }
  if (weights.some((w) => !Number.isFinite(w) || w < 0)) {
    return fail('invalid-input', 'weights must be finite and non-negative');
  }
  const weightSum = weights.reduce((s, w) => s + w, 0);
  if (weightSum === 0) return fail('invalid-input', 'at least one weight must be positive');
  const total = observed.reduce((s, o) => s + o, 0);
  if (total === 0) return fail('no-data', 'no traffic has been observed');

  const expected = weights.map((w) => (total * w) / weightSum);
  const zeroWeightArmsWithTraffic = observed.flatMap((o, i) => (weights[i] === 0 && o > 0 ? [i] : []));
  const active = weights.flatMap((w, i) => (w > 0 ? [i] : []));
  const df = active.length - 1;
  if (zeroWeightArmsWithTraffic.length > 0) {
    return ok({
      observed: [...observed],
      expected,
      chiSquare: Infinity,
      df,
      pValue: 0,
      mismatch: true,
      zeroWeightArmsWithTraffic,
    });
  }
  if (active.length < 2)
    return fail('fewer-than-2-arms', 'a ratio needs at least two arms with positive weight');
  let chiSquare = 0;
  for (const i of active) {
    const d = observed[i] - expected[i];
    chiSquare += (d * d) / expected[i];
  }
  const pValue = chiSquareSf(chiSquare, df);
  return ok({
    observed: [...observed],
    expected,
    chiSquare,
    df,
    pValue,
    mismatch: pValue < threshold,
    zeroWeightArmsWithTraffic,
  });
}
