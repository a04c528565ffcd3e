/**
 * Guardrails: one-sided always-valid tests of non-inferiority for a metric where higher is worse
 * (latency, cost, thumbs-down rate, a score that should not rise) or, with a `…Decrease` margin,
 * where lower is worse (a score that should not fall).
 *
 * θ is the harm of treatment over control on the test's scale and δ the margin on that scale:
 * - absolute margin: θ = μ_t − μ_c, δ = maxAbsoluteIncrease, estimate Δ̂ = mean_t − mean_c with
 *   variance v = s_c²/n_c + s_t²/n_t (as sequentialTest);
 * - relative margin: θ = ln(μ_t/μ_c), δ = ln(1 + maxRelativeIncrease), estimate ln(mean_t/mean_c)
 *   with the delta-method variance v = s_c²/(n_c·mean_c²) + s_t²/(n_t·mean_t²). Because ln is
 *   increasing, μ_t/μ_c − 1 ≤ r ⇔ θ ≤ ln(1 + r): the hypotheses are exactly the relative ones;
 * - lower is worse: θ = μ_c − μ_t with δ = maxAbsoluteDecrease, or θ = ln(μ_c/μ_t) with
 *   δ = −ln(1 − maxRelativeDecrease) (μ_t/μ_c − 1 ≥ −r ⇔ θ ≤ δ; r < 1), same variances.
 *
 * The
 *   log scale is preferred over the delta method on the ratio itself because the log-ratio's
 *   variance does not depend on the unknown ratio, its sampling distribution is far less skewed
 *   for right-skewed metrics such as latency, and it is a smooth function of the two means, so its
 *   sequence of estimates is asymptotically the Gaussian random walk the mSPRT assumes (the same
 *   plug-in asymptotics sequentialTest relies on). Both means must be positive.
 *
 * Two one-sided tests, both always valid:
 * - breach: H0 θ ≤ δ against H1 θ > δ. Rejecting it says the treatment is worse than control by
 *   more than the margin; this is what an automatic stop acts on;
 * - non-inferiority: H0 θ ≥ δ against H1 θ < δ. Rejecting it says the treatment is worse by less
 *   than the margin (or better).
 *
 * Each uses a one-sided normal mixture: the mSPRT mixture of sequential.ts restricted to the
 * alternative side, θ − δ ~ half-normal(τ²) with the same τ convention. With d = estimate − δ and
 * w = d·τ/√(v(v + τ²)), integrating the Gaussian likelihood ratio against that half-normal gives
 *   Λ⁺ = 2Φ(w) · Λ(δ),   Λ⁻ = 2Φ(−w) · Λ(δ),
 * where Λ(δ) = √(v/(v + τ²)) · exp(τ²d²/(2v(v + τ²))) is the two-sided mixture of sequential.ts.
 * Why this stays always valid over the whole composite null (not only at θ = δ): every component
 * of the breach mixture is the likelihood ratio of some θ' > δ against δ, and under any true θ ≤ δ
 * such a ratio is a non-negative supermartingale (each step multiplies it by a factor with
 * expectation exp((θ' − δ)(θ − δ)/v₁) ≤ 1). A mixture of supermartingales is one, so by Ville's
 * inequality P(sup Λ⁺ ≥ 1/α) ≤ α for every θ ≤ δ, and p⁺ = min(1, 1/Λ⁺) may be checked at every
 * look (keep its running minimum). Halving α of the two-sided test would instead need a symmetry
 * argument at θ = δ plus a monotonicity argument below it; the one-sided mixture needs neither, and
 * for d ≥ 0 its p-value lies between half and all of the two-sided one (Φ(w) ∈ [½, 1]).
 *
 * The fixed-horizon components (z = d/√v, its normal tail probabilities and the one-sided 1 − α
 * bounds) are reported for display and for checking against references; they are not valid
 * under peeking.
 */
import { logNormalCdf, normalCdf, normalIsf, normalSf } from './normal';
import { fail, ok, type StatResult } from './result';
import { DEFAULT_STANDARDIZED_TAU } from './sequential';
import { moments, type MeanStats } from './sufficient-stats';

/**
 * A guardrail margin, in the shape of a decision policy's guardrail: exactly one of the four.
 * `…Increase` means higher is worse, `…Decrease` lower is worse; relative margins are fractions of
 * the control mean (0.1 = 10%).
 */
export type GuardrailMargin =
  | { readonly maxAbsoluteIncrease: number }
  | { readonly maxRelativeIncrease: number }
  | { readonly maxAbsoluteDecrease: number }
  | { readonly maxRelativeDecrease: number };

const MARGIN_KEYS = [
  'maxAbsoluteIncrease',
  'maxRelativeIncrease',
  'maxAbsoluteDecrease',
  'maxRelativeDecrease',
] as const;
type MarginKey = (typeof MARGIN_KEYS)[number];

/** The one margin field that is set, or why there is not exactly one. */
function marginOf(margin: GuardrailMargin): { key: MarginKey; value: number } | string {
  const fields = margin as Partial<Record<MarginKey, number>>;
  const set = MARGIN_KEYS.filter((key) => fields[key] !== undefined);
  if (set.length !== 1) return `expected exactly one of ${MARGIN_KEYS.join(', ')}; got ${set.length}`;
  const key = set[0];
  const value = fields[key] as number;
  const limit = key === 'maxRelativeDecrease' ? 1 : Infinity;
  if (!(value >= 0 && value < limit && Number.isFinite(value))) {
    return `${key} must be a finite number ≥ 0${limit === 1 ? ' and < 1' : ''}; got ${value}`;
  }
  return { key, value };
}

export interface NonInferiorityOptions {
  /**
   * τ² on the test's scale (squared metric units, or squared log-ratio units for a relative
   * margin). If omitted: 0.1² · (s_c² + s_t²)/2 for an absolute margin (as sequentialTest), and
   * 0.1² · (cv_c² + cv_t²)/2 with cv = s/mean for a relative one: the same standardised effect of
   * 0.1 sd expressed on the log scale (an effect of 0.1·s on a mean m moves ln m by about 0.1·s/m).
   */
  readonly tauSquared?: number;
  /** Level of the fixed-horizon one-sided bounds; default 0.05. */
  readonly alpha?: number;
}

export interface NonInferiorityResult {
  readonly scale: 'difference' | 'log-ratio';
  /** Which direction the margin guards against. */
  readonly worse: 'higher' | 'lower';
  /** mean_t − mean_c, whatever the scale. */
  readonly diff: number;
  /** mean_t / mean_c − 1; null when the control mean is 0. */
  readonly relativeChange: number | null;
  /** θ̂ on the test's scale: mean_t − mean_c or ln(mean_t / mean_c), negated when lower is worse. */
  readonly estimate: number;
  /** δ on the test's scale: the absolute margin, ln(1 + r) or −ln(1 − r). */
  readonly margin: number;
  /** √v on the test's scale. */
  readonly standardError: number;
  readonly tauSquared: number;
  /** Always-valid p-value at this look for H0 θ ≤ δ: small means the guardrail is breached. */
  readonly breachPValue: number;
  /** ln Λ⁺ of the breach test (log space: Λ overflows for strong effects). */
  readonly breachLogLikelihoodRatio: number;
  /** Always-valid p-value at this look for H0 θ ≥ δ: small means non-inferiority is shown. */
  readonly nonInferiorityPValue: number;
  /** ln Λ⁻ of the non-inferiority test. */
  readonly nonInferiorityLogLikelihoodRatio: number;
  /** Fixed-horizon components: valid only at a planned sample size, shown for reference. */
  readonly fixedHorizon: {
    readonly alpha: number;
    /** (θ̂ − δ) / √v. */
    readonly z: number;
    /** P(Z > z): fixed-horizon p-value of the breach test. */
    readonly breachPValue: number;
    /** P(Z < z): fixed-horizon p-value of the non-inferiority test. */
    readonly nonInferiorityPValue: number;
    /** θ̂ − z₁₋α·√v: one-sided lower 1 − α bound of θ (above δ ⇔ breach at α). */
    readonly lowerBound: number;
    /** θ̂ + z₁₋α·√v: one-sided upper 1 − α bound of θ (below δ ⇔ non-inferior at α). */
    readonly upperBound: number;
  };
  readonly method: 'mSPRT-one-sided-normal-mixture';
}

export type NonInferiorityFailureReason =
  'invalid-input' | 'no-data' | 'n<2' | 'zero-variance' | 'non-positive-mean';

/** ln of the one-sided mixture likelihood ratio Λ± for the standardised distance w = d·τ/√(v(v+τ²)). */
function oneSidedLogRatio(w: number, twoSidedLogRatio: number): number {
  return Math.LN2 + logNormalCdf(w) + twoSidedLogRatio;
}

/**
 * Both one-sided always-valid tests of a guardrail, treatment against control, at this look. Keep
 * the running minimum of each p-value across looks (as with accumulateAlwaysValid).
 */
export function nonInferiorityTest(
  control: MeanStats,
  treatment: MeanStats,
  margin: GuardrailMargin,
  options: NonInferiorityOptions = {},
): StatResult<NonInferiorityResult, NonInferiorityFailureReason> {
  const m = marginOf(margin);
  if (typeof m === 'string') return fail('invalid-input', m);
  const relative = m.key === 'maxRelativeIncrease' || m.key === 'maxRelativeDecrease';
  const sign = m.key === 'maxAbsoluteIncrease' || m.key === 'maxRelativeIncrease' ? 1 : -1;
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) return fail('invalid-input', `alpha must be in (0, 1); got ${alpha}`);
  const c = moments(control);
  if (!c.ok) return c;
  const t = moments(treatment);
  if (!t.ok) return t;
  const mc = c.value.mean;
  const mt = t.value.mean;
  const diff = mt - mc;
  const relativeChange = mc === 0 ? null : diff / mc;
  let estimate = sign * diff;
  let delta = m.value;
  let varC = c.value.variance;
  let varT = t.value.variance;
  if (relative) {
    if (!(mc > 0 && mt > 0)) {
      return fail('non-positive-mean', `a relative margin needs positive means; got ${mc} and ${mt}`);
    }
    estimate = sign * Math.log(mt / mc);
    delta = sign * Math.log1p(sign * m.value);
    varC /= mc * mc;
    varT /= mt * mt;
  }
  const v = varC / c.value.n + varT / t.value.n;
  if (v === 0) return fail('zero-variance', 'both arms have zero variance');
  const tauSquared = options.tauSquared ?? DEFAULT_STANDARDIZED_TAU ** 2 * ((varC + varT) / 2);
  if (!(tauSquared > 0 && Number.isFinite(tauSquared))) {
    return fail('invalid-input', `tauSquared must be positive and finite; got ${tauSquared}`);
  }
  const d = estimate - delta;
  const twoSided = -0.5 * Math.log1p(tauSquared / v) + (tauSquared * d * d) / (2 * v * (v + tauSquared));
  const w = (d * Math.sqrt(tauSquared)) / Math.sqrt(v * (v + tauSquared));
  const breachLogLikelihoodRatio = oneSidedLogRatio(w, twoSided);
  const nonInferiorityLogLikelihoodRatio = oneSidedLogRatio(-w, twoSided);
  const standardError = Math.sqrt(v);
  const z = d / standardError;
  const half = normalIsf(alpha) * standardError;
  return ok({
    scale: relative ? 'log-ratio' : 'difference',
    worse: sign === 1 ? 'higher' : 'lower',
    diff,
    relativeChange,
    estimate,
    margin: delta,
    standardError,
    tauSquared,
    breachPValue: Math.min(1, Math.exp(-breachLogLikelihoodRatio)),
    breachLogLikelihoodRatio,
    nonInferiorityPValue: Math.min(1, Math.exp(-nonInferiorityLogLikelihoodRatio)),
    nonInferiorityLogLikelihoodRatio,
    fixedHorizon: {
      alpha,
      z,
      breachPValue: normalSf(z),
      nonInferiorityPValue: normalCdf(z),
      lowerBound: estimate - half,
      upperBound: estimate + half,
    },
    method: 'mSPRT-one-sided-normal-mixture',
  });
}
