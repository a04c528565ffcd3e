/**
 * Mergeable sufficient statistics, the shape the analytics service keeps in MongoDB. Two partial
 * aggregates combine by adding fields, so every statistic here is a function of (n, sum, sumSq).
 *
 * Variance uses the one-pass form (sumSq − sum²/n)/(n − 1) because only the aggregates exist.
 * Rounding in sumSq can leave a tiny non-zero (or negative) remainder for constant data, so a
 * remainder within ZERO_VARIANCE_RELATIVE · sumSq of zero counts as exactly zero variance; a
 * remainder more negative than that cannot come from real data and is rejected as invalid.
 */
import { fail, ok, type StatResult } from './result';

/** Aggregates of a numeric metric: count, Σx and Σx². */
export interface MeanStats {
  readonly n: number;
  readonly sum: number;
  readonly sumSq: number;
}

/** Aggregates of a binary metric: trials and successes. */
export interface ProportionStats {
  readonly n: number;
  readonly successes: number;
}

/** Merge two partial aggregates of the same arm (e.g. two shards or two time buckets). */
export function mergeMeanStats(a: MeanStats, b: MeanStats): MeanStats {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

/** A binary metric viewed as numeric aggregates: x ∈ {0, 1} so Σx² = Σx. */
export function proportionToMeanStats(p: ProportionStats): MeanStats {
  return { n: p.n, sum: p.successes, sumSq: p.successes };
}

export const ZERO_VARIANCE_RELATIVE = 1e-12;

export interface Moments {
  readonly n: number;
  readonly mean: number;
  /** Sample variance with the n − 1 denominator; exactly 0 for (numerically) constant data. */
  readonly variance: number;
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** Mean and sample variance, or why they do not exist. Zero variance is *not* a failure here. */
export function moments(stats: MeanStats): StatResult<Moments, 'invalid-input' | 'no-data' | 'n<2'> {
  const { n, sum, sumSq } = stats;
  if (!isCount(n) || !Number.isFinite(sum) || !Number.isFinite(sumSq) || sumSq < 0) {
    return fail(
      'invalid-input',
      `expected integer n ≥ 0 and finite sum, sumSq ≥ 0; got n=${n}, sum=${sum}, sumSq=${sumSq}`,
    );
  }
  if (n === 0) return fail('no-data', 'the arm has no observations');
  if (n < 2) return fail('n<2', 'a sample variance needs at least two observations');
  const mean = sum / n;
  const remainder = sumSq - (sum * sum) / n;
  const tolerance = ZERO_VARIANCE_RELATIVE * sumSq;
  if (remainder < -tolerance) {
    return fail(
      'invalid-input',
      `sumSq=${sumSq} is smaller than sum²/n=${(sum * sum) / n}; the aggregates are inconsistent`,
    );
  }
  const variance = remainder <= tolerance ? 0 : remainder / (n - 1);
  return ok({ n, mean, variance });
}

/** Validates trial/success counts. */
export function checkProportion(
  p: ProportionStats,
): StatResult<ProportionStats, 'invalid-input' | 'no-data'> {
  if (!isCount(p.n) || !isCount(p.successes) || p.successes > p.n) {
    return fail(
      'invalid-input',
      `expected integers 0 ≤ successes ≤ n; got n=${p.n}, successes=${p.successes}`,
    );
  }
  if (p.n === 0) return fail('no-data', 'the arm has no trials');
  return ok(p);
}
