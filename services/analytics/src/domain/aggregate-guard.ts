/**
 * Poison checks of the aggregation, done in memory before a message changes anything. MongoDB-
 * compatible stores reject non-finite numbers (FerretDB) or keep them and turn every statistic
 * built on them into NaN (MongoDB), and the latency sketch cannot index every double: a message
 * whose own contribution is not finite, or whose latency the sketch cannot take, is refused and
 * dead-lettered, at the cost of no database round trip and no retry.
 *
 * The check looks at the message alone, so a redelivered message is judged the same way. Sums of
 * valid contributions cannot overflow: the contracts bound every summed value (a score's square is
 * at most 1e12, a latency's 7.5e15), so even 1e12 events stay below 1e28, far from the largest
 * double (1.8e308).
 */
import { type BucketValues, newSketch, unescapeScoreName } from './bucket';

const FLAT_FIELDS = [
  'exposures',
  'generations',
  'costSum',
  'promptTokens',
  'completionTokens',
  'thumbsUp',
  'thumbsDown',
  'comments',
  'corrections',
] as const;

const MEAN_FIELDS = ['n', 'sum', 'sumSq'] as const;

/** The first summary of a contribution that is not a finite number, or null. */
export function nonFiniteField(delta: BucketValues): string | null {
  for (const f of FLAT_FIELDS) if (!Number.isFinite(delta[f])) return f;
  for (const f of MEAN_FIELDS) if (!Number.isFinite(delta.rating[f])) return `rating.${f}`;
  for (const moments of ['latencyMoments', 'costMoments'] as const) {
    const agg = delta[moments];
    if (agg) for (const f of MEAN_FIELDS) if (!Number.isFinite(agg[f])) return `${moments}.${f}`;
  }
  for (const name in delta.scores) {
    const agg = delta.scores[name];
    for (const f of MEAN_FIELDS) {
      if (!Number.isFinite(agg[f])) return `scores.${unescapeScoreName(name)}.${f}`;
    }
  }
  return null;
}

/** Largest latency the sketch can index (its mapping's limit; a larger value makes `accept` throw). */
export const SKETCH_MAX_VALUE = newSketch().mapping.maxPossible;

/** Why a latency cannot go into a sketch, or null. */
export function latencyRefusal(latencyMs: number): string | null {
  return latencyMs >= 0 && latencyMs <= SKETCH_MAX_VALUE
    ? null
    : `latencyMs ${latencyMs} cannot be summarized (expected a finite number >= 0)`;
}
