/**
 * What one revision of a feedback contributes to the aggregates, and the delta between two
 * revisions. An edit contributes `values(new) − values(old)`: counts stay the same, sums move by the
 * difference (a removed thumbs or comment moves its count down by one).
 */
import type { FeedbackSubmittedData } from '@llmops/contracts';
import { type BucketValues, DROPPED_NAMES_KEPT, emptyValues, escapeScoreName, scoreOf } from './bucket';

/**
 * Most distinct score names aggregated per experiment, arm and partition (see `limitScoreNames`); the
 * results API and /metrics show at most this many per experiment.
 */
export const MAX_SCORE_NAMES_PER_EXPERIMENT = 50;

export interface FeedbackValues {
  rating: number | null;
  thumbs: 'up' | 'down' | null;
  /** Keyed by escaped score name. */
  scores: Record<string, number>;
  comment: boolean;
  correction: boolean;
  /** How many scores of the event were left out of `scores` by `limitScoreNames` (absent: none). */
  droppedScores?: number;
  /** Their escaped names (at most `DROPPED_NAMES_KEPT`). */
  droppedScoreNames?: string[];
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

/**
 * The values a revision is aggregated with, given the score names already tracked for its experiment
 * and arm in this partition (names of every recorded revision, see `PartitionState.scoreNamesOf`). A tracked
 * name is kept; a new name is kept while fewer than `limit` names are tracked, in the event's key
 * order; any other score is dropped and counted (`droppedScores`, a sample of names in
 * `droppedScoreNames`). The result is what the revision document stores, so a redelivery re-applies
 * exactly the same values, and a replay, seeing revisions in the same offset order, keeps the same
 * names.
 */
export function limitScoreNames(
  values: FeedbackValues,
  tracked: ReadonlySet<string>,
  limit = MAX_SCORE_NAMES_PER_EXPERIMENT,
): FeedbackValues {
  let room = limit - tracked.size;
  let dropped = 0;
  const droppedNames: string[] = [];
  const scores: Record<string, number> = {};
  for (const [name, x] of Object.entries(values.scores)) {
    if (tracked.has(name)) scores[name] = x;
    else if (room > 0) {
      scores[name] = x;
      room--;
    } else {
      dropped++;
      if (droppedNames.length < DROPPED_NAMES_KEPT) droppedNames.push(name);
    }
  }
  if (dropped === 0) return values;
  return { ...values, scores, droppedScores: dropped, droppedScoreNames: droppedNames };
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
  if (v.droppedScores) out.droppedScores = sign * v.droppedScores;
  if (sign > 0 && v.droppedScoreNames) out.droppedScoreNames = v.droppedScoreNames;
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
    const a = scoreOf(add.scores, name) ?? { n: 0, sum: 0, sumSq: 0 };
    const s = scoreOf(sub.scores, name) ?? { n: 0, sum: 0, sumSq: 0 };
    out.scores[name] = { n: a.n + s.n, sum: a.sum + s.sum, sumSq: a.sumSq + s.sumSq };
  }
  out.comments = add.comments + sub.comments;
  out.corrections = add.corrections + sub.corrections;
  const dropped = (add.droppedScores ?? 0) + (sub.droppedScores ?? 0);
  if (dropped !== 0) out.droppedScores = dropped;
  if (add.droppedScoreNames) out.droppedScoreNames = add.droppedScoreNames;
  return out;
}
