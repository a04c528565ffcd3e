/**
 * Wilson score interval for a binomial proportion (Wilson 1927):
 *   (2np̂ + z² ± z·√(z² + 4np̂(1 − p̂))) / (2(n + z²)).
 * The lower bound is evaluated in the rationalised form 2np̂² / (2np̂ + z² + z·√…), which is the
 * same quantity without the subtraction, so it is exactly 0 at zero successes and keeps full
 * relative precision for rare events.
 */
import { normalIsf } from './normal';
import { fail, ok, type Interval, type StatResult } from './result';
import { checkProportion } from './sufficient-stats';

export interface WilsonResult {
  readonly n: number;
  readonly successes: number;
  readonly rate: number;
  readonly confidence: number;
  /** The Wilson interval at `confidence` (0.95 unless another level was requested). */
  readonly ci95: Interval;
}

export type WilsonFailureReason = 'invalid-input' | 'no-data';

/** Wilson score interval; n = 0 is degenerate, zero successes is not. */
export function wilsonInterval(
  n: number,
  successes: number,
  confidence = 0.95,
): StatResult<WilsonResult, WilsonFailureReason> {
  if (!(confidence > 0 && confidence < 1))
    return fail('invalid-input', `confidence must be in (0, 1); got ${confidence}`);
  const checked = checkProportion({ n, successes });
  if (!checked.ok) return checked;
  const z = normalIsf((1 - confidence) / 2);
  const z2 = z * z;
  const rate = successes / n;
  const a = 2 * successes + z2;
  const b = z * Math.sqrt(z2 + (4 * successes * (n - successes)) / n);
  const lower = (2 * successes * rate) / (a + b);
  const upper = Math.min(1, (a + b) / (2 * (n + z2)));
  return ok({ n, successes, rate, confidence, ci95: [lower, upper] });
}
