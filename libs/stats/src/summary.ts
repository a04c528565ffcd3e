/**
 * Per-arm summary of a numeric metric: mean, sample sd (n − 1) and the Student t interval
 * mean ± t_{0.975, n−1} · sd/√n (Student 1908).
 */
import { fail, ok, type Interval, type StatResult } from './result';
import { studentTQuantile } from './student-t';
import { moments, type MeanStats } from './sufficient-stats';

export interface MeanSummary {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  readonly standardError: number;
  readonly ci95: Interval;
}

export type SummaryFailureReason = 'invalid-input' | 'no-data' | 'n<2' | 'zero-variance';

/**
 * Summarise one arm. Zero variance is reported as a failure rather than a zero-width interval:
 * a handful of identical ratings says nothing about the spread, and a [5, 5] interval would
 * present that as certainty.
 */
export function summarizeMean(stats: MeanStats): StatResult<MeanSummary, SummaryFailureReason> {
  const m = moments(stats);
  if (!m.ok) return m;
  const { n, mean, variance } = m.value;
  if (variance === 0) return fail('zero-variance', 'all observations are equal; the interval is undefined');
  const sd = Math.sqrt(variance);
  const standardError = sd / Math.sqrt(n);
  const half = studentTQuantile(0.975, n - 1) * standardError;
  return ok({ n, mean, sd, standardError, ci95: [mean - half, mean + half] });
}
