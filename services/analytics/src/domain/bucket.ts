/**
 * The aggregate document: one per (project, experiment, arm, span, source topic, partition), where
 * the span is a minute, an hour or a day (the resolution, `res`). Every contribution goes to the
 * three spans that hold its event minute, so a window reads whole days, whole hours at its edges
 * and minutes only at the very edges. Every field is a mergeable summary (counts, sums, sums of
 * squares, a DDSketch), so any set of buckets merges by addition at read time. `lastOffset` is the
 * highest offset of the owning (topic, partition) whose contribution is included: the exactly-once
 * guard, kept per bucket and so per resolution.
 */
import { DDSketch } from '@datadog/sketches-js';
import { experimentScope } from './project-scope';

export type SourceKind = 'x' | 'g' | 'f';

/** Every source topic: exposures, generations, feedback. */
export const SOURCE_KINDS: readonly SourceKind[] = ['x', 'g', 'f'];

/** A bucket's span: a minute, an hour or a day. */
export type Resolution = 'm' | 'h' | 'd';

export const RESOLUTIONS: readonly Resolution[] = ['m', 'h', 'd'];

/** Length of a span, in minutes. */
export const SPAN_MINUTES: Readonly<Record<Resolution, number>> = { m: 1, h: 60, d: 1440 };

/** Start minute of the span of resolution `res` that holds `minute` (epoch days and hours are UTC). */
export function spanStart(minute: number, res: Resolution): number {
  return Math.floor(minute / SPAN_MINUTES[res]) * SPAN_MINUTES[res];
}

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
  /** Start of the span, as an epoch minute (ms / 60000, floored) of the event time for a minute bucket. */
  minute: number;
  /**
   * The span's resolution. Absent in minute buckets created by builds without roll-ups: no hour or
   * day bucket holds their contributions, so readers read minutes wherever such a bucket lies.
   * `p`: a phase roll-up, everything from `minute` on (see phase-rollup.ts).
   */
  res?: Resolution | 'p';
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

/**
 * `<experiment scope>|arm|<span>|kind|part` (see `experimentScope`), where the span is the minute for
 * a minute bucket (the ids of buckets stored before roll-ups) and `h<start>` / `d<start>` for an hour
 * or a day.
 */
export function bucketId(
  scope: string,
  arm: string,
  minute: number,
  kind: SourceKind,
  part: number,
  res: Resolution = 'm',
): string {
  const span = res === 'm' ? `${minute}` : `${res}${spanStart(minute, res)}`;
  return `${scope}|${arm}|${span}|${kind}|${part}`;
}

/** The empty bucket of resolution `res` that holds `minute`. */
export function emptyBucket(
  project: string,
  exp: string,
  arm: string,
  minute: number,
  kind: SourceKind,
  part: number,
  res: Resolution = 'm',
): Bucket {
  return {
    _id: bucketId(experimentScope(project, exp), arm, minute, kind, part, res),
    project,
    exp,
    arm,
    minute: spanStart(minute, res),
    res,
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

/**
 * The entry of score `name` in a score map, read as an own property only: score names may be
 * Object.prototype members ('constructor', 'toString'), which an indexed read of a plain object (one
 * built in code, by `JSON.parse` or by the driver) would find on the prototype. Every read of a score
 * map by name goes through here.
 */
export function scoreOf<T>(scores: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(scores, name) ? scores[name] : undefined;
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
  // for-in, not Object.entries: this runs three times per event (minute, hour, day) on the hot path.
  for (const name in delta.scores)
    addMean(
      scoreOf(into.scores, name) ?? (into.scores[name] = { n: 0, sum: 0, sumSq: 0 }),
      delta.scores[name],
    );
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

/** The buckets of resolution `res` whose span starts in the minutes [from, to). */
export interface SpanRange {
  res: Resolution;
  from: number;
  to: number;
}

/**
 * The spans that cover the minutes [from, to) exactly once, each minute by the coarsest span that
 * lies wholly inside: whole days, then whole hours in what is left at each edge, then minutes at the
 * very edges. `minutesOnly` (minutes [from, to)) is covered by minutes whatever its length: it holds
 * minute buckets whose contributions are in no hour or day bucket (see `Bucket.res`).
 */
export function coverWindow(from: number, to: number, minutesOnly?: readonly [number, number]): SpanRange[] {
  const ranges: SpanRange[] = [];
  const lo = minutesOnly ? Math.max(from, minutesOnly[0]) : to;
  const hi = minutesOnly ? Math.min(to, minutesOnly[1]) : to;
  if (lo < hi) {
    coverWith(from, lo, ['d', 'h', 'm'], ranges);
    ranges.push({ res: 'm', from: lo, to: hi });
    coverWith(hi, to, ['d', 'h', 'm'], ranges);
  } else coverWith(from, to, ['d', 'h', 'm'], ranges);
  return ranges;
}

function coverWith(from: number, to: number, levels: readonly Resolution[], into: SpanRange[]): void {
  if (from >= to) return;
  const [res, ...finer] = levels;
  if (finer.length === 0) {
    into.push({ res, from, to });
    return;
  }
  const len = SPAN_MINUTES[res];
  const start = Math.ceil(from / len) * len;
  const end = Math.floor(to / len) * len;
  if (start >= end) return coverWith(from, to, finer, into);
  coverWith(from, start, finer, into);
  into.push({ res, from: start, to: end });
  coverWith(end, to, finer, into);
}
