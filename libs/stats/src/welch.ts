/**
 * Welch's unequal-variance t test on two arms' aggregates (Welch 1947; degrees of freedom by
 * Satterthwaite 1946):
 *   se² = s_c²/n_c + s_t²/n_t,  df = se⁴ / [ (s_c²/n_c)²/(n_c − 1) + (s_t²/n_t)²/(n_t − 1) ],
 *   t = (mean_t − mean_c)/se,   p = 2 · P(T_df > |t|),   CI = diff ± t_{0.975, df} · se.
 */
import { fail, ok, type Interval, type StatResult } from './result';
import { studentTQuantile, studentTTwoSidedP } from './student-t';
import { moments, type MeanStats } from './sufficient-stats';

export interface WelchResult {
  /** treatment mean − control mean. */
  readonly diff: number;
  /** diff / control mean; null when the control mean is exactly 0 (no baseline to scale by). */
  readonly relativeLift: number | null;
  readonly ci95: Interval;
  readonly pValue: number;
  readonly df: number;
  readonly t: number;
  readonly standardError: number;
  readonly test: 'welch-t';
}

export type WelchFailureReason = 'invalid-input' | 'no-data' | 'n<2' | 'zero-variance';

/** Two-sided Welch test of treatment versus control ("arm minus control"). */
export function welchTest(
  control: MeanStats,
  treatment: MeanStats,
): StatResult<WelchResult, WelchFailureReason> {
  const c = moments(control);
  if (!c.ok) return c;
  const t = moments(treatment);
  if (!t.ok) return t;
  const vc = c.value.variance / c.value.n;
  const vt = t.value.variance / t.value.n;
  const se2 = vc + vt;
  // One constant arm is fine (the other carries the uncertainty); both constant leaves no test.
  if (se2 === 0) return fail('zero-variance', 'both arms have zero variance');
  const se = Math.sqrt(se2);
  const df = (se2 * se2) / ((vc * vc) / (c.value.n - 1) + (vt * vt) / (t.value.n - 1));
  const diff = t.value.mean - c.value.mean;
  const tStat = diff / se;
  const half = studentTQuantile(0.975, df) * se;
  return ok({
    diff,
    relativeLift: c.value.mean === 0 ? null : diff / c.value.mean,
    ci95: [diff - half, diff + half],
    pValue: studentTTwoSidedP(tStat, df),
    df,
    t: tStat,
    standardError: se,
    test: 'welch-t',
  });
}
