/**
 * Poison checks of the aggregation, done in memory before a message changes anything. MongoDB-
 * compatible stores reject non-finite numbers (FerretDB) or keep them and turn every statistic
 * built on them into NaN (MongoDB), and the latency sketch cannot index every double: a message
 * whose contribution would produce either is refused and dead-lettered, at the cost of no database
 * round trip and no retry.
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

/** The first summary of `into + delta` (or of `delta` itself) that is not a finite number, or null. */
export function nonFiniteField(into: BucketValues | undefined, delta: BucketValues): string | null {
  const bad = (a: number, d: number) => !Number.isFinite(d) || !Number.isFinite(a + d);
  for (const f of FLAT_FIELDS) if (bad(into?.[f] ?? 0, delta[f])) return f;
  for (const f of MEAN_FIELDS) if (bad(into?.rating[f] ?? 0, delta.rating[f])) return `rating.${f}`;
  for (const [name, agg] of Object.entries(delta.scores)) {
    const target = into?.scores[name];
    for (const f of MEAN_FIELDS) {
      if (bad(target?.[f] ?? 0, agg[f])) return `scores.${unescapeScoreName(name)}.${f}`;
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
