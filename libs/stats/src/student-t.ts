/**
 * Student t distribution for real-valued degrees of freedom (Welch df is fractional).
 *
 * P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2) (Abramowitz & Stegun 26.7.1), with x and 1 − x both
 * formed exactly from t²/df so tail probabilities like 1e-12 keep full relative precision. For
 * df ≥ 30 and |t| ≤ √df the asymptotic expansion BGRAT (DiDonato & Morris 1992) replaces the
 * continued fraction, which would lose up to 1e-9 relative accuracy at df ~ 1e8.
 * The quantile solves log sf(t) = log q by Newton's method inside a maintained bracket, falling back
 * to bisection whenever a Newton step leaves it: log space makes the polynomial tails of small df
 * (sf ~ t^(−df)) almost linear, so Newton converges in a handful of steps even at q = 1e-300.
 */
import { incompleteBetaLargeA, incompleteBetaPair } from './beta';
import { logBeta } from './gamma';
import { normalIsf } from './normal';

function checkDf(df: number): boolean {
  return !Number.isNaN(df) && df > 0;
}

/** Half of the two-sided tail, P(T > |t|), computed directly. */
function upperTailOfAbs(t: number, df: number): number {
  if (t === 0) return 0.5;
  const ratio = (t * t) / df;
  if (ratio === Infinity) return 0;
  // x = df/(df+t²), y = t²/(df+t²), each without subtractive cancellation.
  const x = 1 / (1 + ratio);
  const y = ratio / (1 + ratio);
  // The continued fraction cancels ~log10(df) digits when x is near 1; measured against mpmath,
  // BGRAT stays within a few ulps there for df ≥ 30, and the continued fraction is exact elsewhere.
  if (df >= 30 && ratio <= 1) return 0.5 * incompleteBetaLargeA(df / 2, 0.5, x, y);
  return 0.5 * incompleteBetaPair(df / 2, 0.5, x, y).lower;
}

/** Density of Student t with `df` degrees of freedom. */
export function studentTPdf(t: number, df: number): number {
  if (Number.isNaN(t) || !checkDf(df)) return NaN;
  const logDensity = -((df + 1) / 2) * Math.log1p((t * t) / df) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5);
  return Math.exp(logDensity);
}

/** P(T ≤ t). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !checkDf(df)) return NaN;
  const tail = upperTailOfAbs(Math.abs(t), df);
  return t > 0 ? 1 - tail : tail;
}

/** P(T > t), computed directly for t > 0 so small p-values are accurate. */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !checkDf(df)) return NaN;
  const tail = upperTailOfAbs(Math.abs(t), df);
  return t > 0 ? tail : 1 - tail;
}

/** Two-sided p-value P(|T| ≥ |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !checkDf(df)) return NaN;
  return Math.min(1, 2 * upperTailOfAbs(Math.abs(t), df));
}

/** The t > 0 with P(T > t) = q, for 0 < q < 0.5. */
function upperQuantile(q: number, df: number): number {
  const logQ = Math.log(q);
  let lo = 0;
  let hi = Infinity;
  // Cornish–Fisher start (Hill 1970): excellent for large df, merely a start for small df.
  const z = normalIsf(q);
  let t = z + (z * z * z + z) / (4 * df);
  if (!(t > 0) || !Number.isFinite(t)) t = 1;
  for (let i = 0; i < 500; i++) {
    const sf = upperTailOfAbs(t, df);
    if (sf > q) lo = t;
    else if (sf < q) hi = t;
    else return t;
    const pdf = studentTPdf(t, df);
    let next = sf > 0 && pdf > 0 ? t + ((Math.log(sf) - logQ) * sf) / pdf : NaN;
    if (!(next > lo && next < hi)) next = hi === Infinity ? Math.max(2 * t, 1) : (lo + hi) / 2;
    if (Math.abs(next - t) <= 4 * Number.EPSILON * next) return next;
    t = next;
  }
  return t;
}

/** Quantile (inverse cdf) of Student t; ±Infinity at p = 0/1, NaN for p outside [0, 1]. */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !checkDf(df)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // 1 − p is exact for p ≥ 0.5 (Sterbenz), so the upper half loses nothing here.
  return p < 0.5 ? -upperQuantile(p, df) : upperQuantile(1 - p, df);
}
