/**
 * What one revision of a feedback contributes to the aggregates, and the delta between two
 * revisions. An edit contributes `values(new) − values(old)`: counts stay the same, sums move by the
 * difference (a removed thumbs or comment moves its count down by one).
 */
import type { FeedbackSubmittedData } from '@llmops/contracts';
import { type BucketValues, emptyValues, escapeScoreName } from './bucket';

export interface FeedbackValues {
  rating: number | null;
  thumbs: 'up' | 'down' | null;
  /** Keyed by escaped score name. */
  scores: Record<string, number>;
  comment: boolean;
  correction: boolean;
}

export function feedbackValues(data: FeedbackSubmittedData): FeedbackValues {
  return {
    rating: data.rating ?? null,
    thumbs: data.thumbs ?? null,
    // Stored in MongoDB (revision and pending documents): names escaped like bucket fields.
    scores: Object.fromEntries(Object.entries(data.scores ?? {}).map(([k, v]) => [escapeScoreName(k), v])),
    comment: data.comment !== undefined,
    correction: data.correction !== undefined,
  };
}

function contribution(v: FeedbackValues, sign: 1 | -1): BucketValues {
  const out = emptyValues();
  if (v.rating !== null) out.rating = { n: sign, sum: sign * v.rating, sumSq: sign * v.rating * v.rating };
  if (v.thumbs === 'up') out.thumbsUp = sign;
  if (v.thumbs === 'down') out.thumbsDown = sign;
  for (const [name, x] of Object.entries(v.scores)) {
    out.scores[name] = { n: sign, sum: sign * x, sumSq: sign * x * x };
  }
  out.comments = v.comment ? sign : 0;
  out.corrections = v.correction ? sign : 0;
  return out;
}

/** Contribution of moving a feedback from `previous` (null: not counted yet) to `next`. */
export function feedbackDelta(previous: FeedbackValues | null, next: FeedbackValues): BucketValues {
  const add = contribution(next, 1);
  if (!previous) return add;
  const sub = contribution(previous, -1);
  // Subtract then add per field so an unchanged rating yields exactly 0 (no float residue).
  const out = emptyValues();
  const rating = {
    n: add.rating.n + sub.rating.n,
    sum: add.rating.sum + sub.rating.sum,
    sumSq: add.rating.sumSq + sub.rating.sumSq,
  };
  out.rating = rating;
  out.thumbsUp = add.thumbsUp + sub.thumbsUp;
  out.thumbsDown = add.thumbsDown + sub.thumbsDown;
  for (const name of new Set([...Object.keys(add.scores), ...Object.keys(sub.scores)])) {
    const a = add.scores[name] ?? { n: 0, sum: 0, sumSq: 0 };
    const s = sub.scores[name] ?? { n: 0, sum: 0, sumSq: 0 };
    out.scores[name] = { n: a.n + s.n, sum: a.sum + s.sum, sumSq: a.sumSq + s.sumSq };
  }
  out.comments = add.comments + sub.comments;
  out.corrections = add.corrections + sub.corrections;
  return out;
}
