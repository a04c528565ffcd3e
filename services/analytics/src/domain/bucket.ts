/**
 * The aggregate document: one per (project, experiment, arm, minute, source topic, partition). Every field
 * is a mergeable summary (counts, sums, sums of squares, a DDSketch), so any set of buckets merges
 * by addition at read time. `lastOffset` is the highest offset of the owning (topic, partition)
 * whose contribution is included: the exactly-once guard.
 */
import { DDSketch } from '@datadog/sketches-js';
import { experimentScope } from './project-scope';

export type SourceKind = 'x' | 'g' | 'f';

export interface MeanAgg {
  n: number;
  sum: number;
  sumSq: number;
}

export interface BucketValues {
  exposures: number;
  generations: number;
  costSum: number;
  promptTokens: number;
  completionTokens: number;
  rating: MeanAgg;
  thumbsUp: number;
  thumbsDown: number;
  /** Keyed by the escaped score name (see `escapeScoreName`). */
  scores: Record<string, MeanAgg>;
  comments: number;
  corrections: number;
  /**
   * Per-request latency and cost (of the generations that report a cost) as count, Σx and Σx²:
   * the means and variances the decision policy's guardrails test. Absent in buckets written by
   * builds without decisions (they count as no data for guardrails).
   */
  latencyMoments?: MeanAgg;
  costMoments?: MeanAgg;
  /**
   * Score values of current feedback revisions that are not in `scores` because their name is
   * beyond the per-experiment limit (see `limitScoreNames`). Absent while zero.
   */
  droppedScores?: number;
  /**
   * Some of those names (escaped), at most `DROPPED_NAMES_KEPT`, first seen first; only ever
   * grows (an edit that removes a dropped value lowers `droppedScores`, not this list).
   */
  droppedScoreNames?: string[];
}

/** How many dropped score names a bucket (and a merge of buckets) remembers. */
export const DROPPED_NAMES_KEPT = 20;

export interface Bucket extends BucketValues {
  _id: string;
  project: string;
  exp: string;
  arm: string;
  /** Epoch minute (ms / 60000, floored) of the event time. */
  minute: number;
  kind: SourceKind;
  part: number;
  lastOffset: number;
  /** Generation latency; null until the bucket saw a generation. */
  latency: DDSketch | null;
}

export const SKETCH_RELATIVE_ACCURACY = 0.01;

export function newSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
}

export function emptyValues(): BucketValues {
  return {
    exposures: 0,
    generations: 0,
    costSum: 0,
    promptTokens: 0,
    completionTokens: 0,
    rating: { n: 0, sum: 0, sumSq: 0 },
    thumbsUp: 0,
    thumbsDown: 0,
    scores: {},
    comments: 0,
    corrections: 0,
  };
}

/** `<experiment scope>|arm|minute|kind|part` (see `experimentScope`). */
export function bucketId(scope: string, arm: string, minute: number, kind: SourceKind, part: number): string {
  return `${scope}|${arm}|${minute}|${kind}|${part}`;
}

export function emptyBucket(
  project: string,
  exp: string,
  arm: string,
  minute: number,
  kind: SourceKind,
  part: number,
): Bucket {
  return {
    _id: bucketId(experimentScope(project, exp), arm, minute, kind, part),
    project,
    exp,
    arm,
    minute,
    kind,
    part,
    lastOffset: -1,
    latency: null,
    ...emptyValues(),
  };
}

/** MongoDB field names cannot contain '.', score names may ('tone.friendly'). '%' is not allowed in names. */
export function escapeScoreName(name: string): string {
  return name.replace(/\./g, '%2E');
}

export function unescapeScoreName(name: string): string {
  return name.replace(/%2E/g, '.');
}

function addMean(into: MeanAgg, d: MeanAgg, sign = 1): void {
  into.n += sign * d.n;
  into.sum += sign * d.sum;
  into.sumSq += sign * d.sumSq;
}

/** into += delta (delta may be negative: feedback edits). */
export function addValues(into: BucketValues, delta: BucketValues): void {
  into.exposures += delta.exposures;
  into.generations += delta.generations;
  into.costSum += delta.costSum;
  into.promptTokens += delta.promptTokens;
  into.completionTokens += delta.completionTokens;
  addMean(into.rating, delta.rating);
  into.thumbsUp += delta.thumbsUp;
  into.thumbsDown += delta.thumbsDown;
  for (const [name, agg] of Object.entries(delta.scores)) {
    const target = (into.scores[name] ??= { n: 0, sum: 0, sumSq: 0 });
    addMean(target, agg);
  }
  into.comments += delta.comments;
  into.corrections += delta.corrections;
  if (delta.latencyMoments)
    addMean((into.latencyMoments ??= { n: 0, sum: 0, sumSq: 0 }), delta.latencyMoments);
  if (delta.costMoments) addMean((into.costMoments ??= { n: 0, sum: 0, sumSq: 0 }), delta.costMoments);
  if (delta.droppedScores) into.droppedScores = (into.droppedScores ?? 0) + delta.droppedScores;
  if (delta.droppedScoreNames && delta.droppedScoreNames.length > 0) {
    const names = (into.droppedScoreNames ??= []);
    for (const name of delta.droppedScoreNames) {
      if (names.length >= DROPPED_NAMES_KEPT) break;
      if (!names.includes(name)) names.push(name);
    }
  }
}

export function minuteOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 60_000);
}
