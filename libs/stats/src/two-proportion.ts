/**
 * Two-proportion z test (e.g. Fleiss, Levin & Paik 2003, §2.3 without continuity correction).
 * The p-value uses the pooled standard error √(p̄(1 − p̄)(1/n_c + 1/n_t)) because under H0 both
 * arms share one rate. The 95% CI of the difference is the unpooled Wald interval
 * diff ± z_{0.975} · √(p_c(1 − p_c)/n_c + p_t(1 − p_t)/n_t), since away from H0 the arms differ.
 * Wald intervals under-cover near 0 and 1; the per-arm Wilson interval is the better display there.
 */
import { normalIsf, normalSf } from './normal';
import { fail, ok, type Interval, type StatResult } from './result';
import { checkProportion, type ProportionStats } from './sufficient-stats';

export interface TwoProportionResult {
  /** treatment rate − control rate. */
  readonly diff: number;
  /** diff / control rate; null when the control rate is 0. */
  readonly relativeLift: number | null;
  /** Unpooled Wald interval of the difference. */
  readonly ci95: Interval;
  readonly pValue: number;
  readonly z: number;
  /** Pooled standard error used for z. */
  readonly standardError: number;
  readonly test: 'two-proportion-z';
}

export type TwoProportionFailureReason = 'invalid-input' | 'no-data' | 'zero-variance';

/** Two-sided pooled z test of treatment versus control. */
export function twoProportionZTest(
  control: ProportionStats,
  treatment: ProportionStats,
): StatResult<TwoProportionResult, TwoProportionFailureReason> {
  const c = checkProportion(control);
  if (!c.ok) return c;
  const t = checkProportion(treatment);
  if (!t.ok) return t;
  const pc = control.successes / control.n;
  const pt = treatment.successes / treatment.n;
  const pooled = (control.successes + treatment.successes) / (control.n + treatment.n);
  if (pooled === 0 || pooled === 1) {
    return fail('zero-variance', 'every trial in both arms has the same outcome');
  }
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const diff = pt - pc;
  const z = diff / se;
  const seWald = Math.sqrt((pc * (1 - pc)) / control.n + (pt * (1 - pt)) / treatment.n);
  const half = normalIsf(0.025) * seWald;
  return ok({
    diff,
    relativeLift: pc === 0 ? null : diff / pc,
    ci95: [diff - half, diff + half],
    pValue: Math.min(1, 2 * normalSf(Math.abs(z))),
    z,
    standardError: se,
    test: 'two-proportion-z',
  });
}
