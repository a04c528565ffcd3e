/**
 * Always-valid inference for the difference of two means: the mixture sequential probability
 * ratio test (mSPRT) with a normal mixing distribution, Johari, Koomen, Pekelis & Walsh (2017),
 * "Peeking at A/B tests" (KDD) and Johari, Pekelis & Walsh, "Always valid inference" (2015/2022).
 *
 * With Δ̂ = mean_t − mean_c, its variance v = s_c²/n_c + s_t²/n_t and H: θ ~ N(0, τ²), the mixture
 * likelihood ratio against θ = θ0 is
 *   Λ(θ0) = √(v/(v + τ²)) · exp( τ²(Δ̂ − θ0)² / (2v(v + τ²)) ).
 * For balanced arms v = 2σ²/n and this is exactly the paper's Λ_n. P(sup_n Λ_n ≥ 1/α) ≤ α under
 * H0 (Ville's inequality), so p = min(1, 1/Λ(0)) may be checked at every look, and
 * {θ0 : Λ(θ0) < 1/α}, i.e. Δ̂ ± √( 2v(v + τ²)/τ² · (ln(1/α) + ½ ln((v + τ²)/v)) ), covers θ at
 * every look simultaneously. As in the paper, variances are plug-in estimates, which is
 * asymptotically valid; the A/A simulation in scripts/ measures the finite-sample behaviour.
 *
 * This function is stateless and returns the values *at this look*. Always-valid guarantees
 * are about the running minimum of p and the running intersection of intervals; keep them with
 * `accumulateAlwaysValid` across looks (store the previous state next to the aggregates).
 */
import { fail, ok, type Interval, type StatResult } from './result';
import { moments, proportionToMeanStats, type MeanStats, type ProportionStats } from './sufficient-stats';

/**
 * Default mixing scale: τ = 0.1 · pooled sd, i.e. a prior of standardised effects of order
 * Cohen's d = 0.1. Johari et al. show power is best for effects near τ; 0.1 sd is the smallest
 * effect prompt experiments typically care about, and the guarantee holds for any fixed τ.
 */
export const DEFAULT_STANDARDIZED_TAU = 0.1;

export interface SequentialOptions {
  /**
   * τ² in squared metric units. Prefer fixing it for the life of the experiment (e.g. from
   * pre-experiment variance); if omitted, (DEFAULT_STANDARDIZED_TAU)² · (s_c² + s_t²)/2 from the
   * current aggregates is used, which settles quickly as the variance estimates converge.
   */
  readonly tauSquared?: number;
}

export interface SequentialResult {
  readonly diff: number;
  /** Always-valid p-value at this look: min(1, 1/Λ(0)). */
  readonly pValue: number;
  /** Always-valid 95% confidence interval at this look. */
  readonly ci95: Interval;
  /** ln Λ(0); reported in log space because Λ overflows for strong effects. */
  readonly logLikelihoodRatio: number;
  readonly tauSquared: number;
  readonly method: 'mSPRT-normal-mixture';
}

export type SequentialFailureReason = 'invalid-input' | 'no-data' | 'n<2' | 'zero-variance';

const ALPHA = 0.05;

/** mSPRT for treatment − control on numeric aggregates. */
export function sequentialTest(
  control: MeanStats,
  treatment: MeanStats,
  options: SequentialOptions = {},
): StatResult<SequentialResult, SequentialFailureReason> {
  const c = moments(control);
  if (!c.ok) return c;
  const t = moments(treatment);
  if (!t.ok) return t;
  const v = c.value.variance / c.value.n + t.value.variance / t.value.n;
  if (v === 0) return fail('zero-variance', 'both arms have zero variance');
  const tauSquared =
    options.tauSquared ?? DEFAULT_STANDARDIZED_TAU ** 2 * ((c.value.variance + t.value.variance) / 2);
  if (!(tauSquared > 0 && Number.isFinite(tauSquared))) {
    return fail('invalid-input', `tauSquared must be positive and finite; got ${tauSquared}`);
  }
  const diff = t.value.mean - c.value.mean;
  const logVarianceRatio = Math.log1p(tauSquared / v); // ln((v + τ²)/v)
  const scale = 2 * v * (v + tauSquared);
  const logLikelihoodRatio = -0.5 * logVarianceRatio + (tauSquared * diff * diff) / scale;
  const pValue = Math.min(1, Math.exp(-logLikelihoodRatio));
  const half = Math.sqrt((scale / tauSquared) * (Math.log(1 / ALPHA) + 0.5 * logVarianceRatio));
  return ok({
    diff,
    pValue,
    ci95: [diff - half, diff + half],
    logLikelihoodRatio,
    tauSquared,
    method: 'mSPRT-normal-mixture',
  });
}

/** mSPRT for a difference of proportions, via the Bernoulli mean/variance (Σx² = Σx). */
export function sequentialTestProportions(
  control: ProportionStats,
  treatment: ProportionStats,
  options: SequentialOptions = {},
): StatResult<SequentialResult, SequentialFailureReason> {
  if (control.successes > control.n || treatment.successes > treatment.n) {
    return fail('invalid-input', 'successes cannot exceed n');
  }
  return sequentialTest(proportionToMeanStats(control), proportionToMeanStats(treatment), options);
}

/** What the caller persists between looks. */
export interface AlwaysValidState {
  readonly looks: number;
  /** Running minimum of the per-look p-values: the always-valid p-value. */
  readonly pValue: number;
  /** Running intersection of the per-look intervals: the always-valid interval. */
  readonly ci95: Interval;
}

/**
 * Fold one look into the running always-valid state. If plug-in variance noise ever makes the
 * intersection empty, the newest interval is kept rather than reporting an empty set.
 */
export function accumulateAlwaysValid(
  previous: AlwaysValidState | null,
  look: SequentialResult,
): AlwaysValidState {
  if (previous === null) return { looks: 1, pValue: look.pValue, ci95: look.ci95 };
  const lower = Math.max(previous.ci95[0], look.ci95[0]);
  const upper = Math.min(previous.ci95[1], look.ci95[1]);
  return {
    looks: previous.looks + 1,
    pValue: Math.min(previous.pValue, look.pValue),
    ci95: lower <= upper ? [lower, upper] : look.ci95,
  };
}
