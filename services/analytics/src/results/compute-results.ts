/**
 * Pure: merges the buckets of a window per arm and composes the statistics of `@llmops/stats`
 * (nothing is re-implemented here). Degenerate cases give `null` plus a machine-readable `reason`.
 */
import { DDSketch } from '@datadog/sketches-js';
import {
  type MeanStats,
  sampleRatioMismatch,
  sampleSize,
  type SampleSizeInput,
  sampleSizeStatus,
  sequentialTest,
  sequentialTestProportions,
  summarizeMean,
  twoProportionZTest,
  welchTest,
  wilsonInterval,
} from '@llmops/stats';
import {
  addValues,
  type Bucket,
  type BucketValues,
  DROPPED_NAMES_KEPT,
  emptyValues,
  newSketch,
  scoreOf,
  unescapeScoreName,
} from '../domain/bucket';
import { MAX_SCORE_NAMES_PER_EXPERIMENT } from '../domain/feedback-values';
import { nextTurn } from '../domain/next-turn';
import type { ExperimentDoc } from '../persistence/analytics.schemas';
import type {
  ArmResult,
  ComparisonResult,
  DecisionResult,
  ExperimentResults,
  MeanResult,
} from './dto/results.response';

export interface ResultsOptions {
  minimumPerArm: number;
  recommendedPerArm: number;
}

interface ArmAgg {
  values: BucketValues;
  latency: DDSketch | null;
}

type Interval = [number, number];

function mean(agg: { n: number; sum: number; sumSq: number }): MeanResult {
  const s = summarizeMean(agg);
  if (s.ok)
    return {
      n: agg.n,
      mean: s.value.mean,
      sd: s.value.sd,
      ci95: [s.value.ci95[0], s.value.ci95[1]],
      reason: null,
    };
  // Zero variance still has a mean (and sd 0); only the interval is undefined.
  if (s.reason === 'zero-variance')
    return { n: agg.n, mean: agg.sum / agg.n, sd: 0, ci95: null, reason: s.reason };
  if (s.reason === 'n<2' && agg.n === 1)
    return { n: 1, mean: agg.sum, sd: null, ci95: null, reason: s.reason };
  return { n: agg.n, mean: null, sd: null, ci95: null, reason: s.reason };
}

function quantile(sketch: DDSketch | null, q: number): number | null {
  if (!sketch || sketch.count === 0) return null;
  return sketch.getValueAtQuantile(q);
}

function toInterval(i: readonly [number, number]): Interval {
  return [i[0], i[1]];
}

/** Merges the buckets per arm, of the arms in `counted` only. */
export function mergeArms(buckets: Bucket[], counted: ReadonlySet<string>): Map<string, ArmAgg> {
  const arms = new Map<string, ArmAgg>();
  for (const b of buckets) {
    if (!counted.has(b.arm)) continue;
    let a = arms.get(b.arm);
    if (!a) {
      a = { values: emptyValues(), latency: null };
      arms.set(b.arm, a);
    }
    addValues(a.values, b);
    if (b.latency) {
      a.latency ??= newSketch();
      a.latency.merge(b.latency);
    }
  }
  return arms;
}

/**
 * Which score names the results show: at most `MAX_SCORE_NAMES_PER_EXPERIMENT`. The aggregation
 * bounds names per partition, so the union over partitions can be larger; then the names with the
 * most values over all arms are kept (ties: by name). Everything else is reported, never hidden:
 * values dropped by the aggregation plus values of the names cut here, and up to
 * `DROPPED_NAMES_KEPT` of those names, sorted.
 */
function limitScores(arms: BucketValues[]): {
  kept: Set<string>;
  droppedValues: number;
  droppedNames: string[];
} {
  const totals = new Map<string, number>();
  const dropped = new Set<string>();
  let droppedValues = 0;
  for (const v of arms) {
    for (const [escaped, agg] of Object.entries(v.scores))
      totals.set(escaped, (totals.get(escaped) ?? 0) + agg.n);
    droppedValues += v.droppedScores ?? 0;
    for (const escaped of v.droppedScoreNames ?? []) dropped.add(escaped);
  }
  const ranked = [...totals.entries()].sort(([x, nx], [y, ny]) => ny - nx || (x < y ? -1 : x > y ? 1 : 0));
  const kept = new Set(ranked.slice(0, MAX_SCORE_NAMES_PER_EXPERIMENT).map(([name]) => name));
  for (const [name, n] of ranked.slice(MAX_SCORE_NAMES_PER_EXPERIMENT)) {
    droppedValues += n;
    dropped.add(name);
  }
  const droppedNames = [...dropped]
    .filter((name) => !kept.has(name))
    .map(unescapeScoreName)
    .sort()
    .slice(0, DROPPED_NAMES_KEPT);
  return { kept, droppedValues, droppedNames };
}

function compareMeans(metric: string, arm: string, c: MeanStats, t: MeanStats): ComparisonResult {
  const w = welchTest(c, t);
  const s = sequentialTest(c, t);
  return {
    arm,
    metric,
    diff: w.ok ? w.value.diff : null,
    relativeLift: w.ok ? w.value.relativeLift : null,
    ci95: w.ok ? toInterval(w.value.ci95) : null,
    pValue: w.ok ? w.value.pValue : null,
    test: 'welch-t',
    reason: w.ok ? null : w.reason,
    sequential: s.ok
      ? { pValue: s.value.pValue, ci95: toInterval(s.value.ci95), method: s.value.method, reason: null }
      : { pValue: null, ci95: null, method: 'mSPRT-normal-mixture', reason: s.reason },
  };
}

function compareThumbs(arm: string, c: ArmAgg, t: ArmAgg): ComparisonResult {
  const cp = { n: c.values.thumbsUp + c.values.thumbsDown, successes: c.values.thumbsUp };
  const tp = { n: t.values.thumbsUp + t.values.thumbsDown, successes: t.values.thumbsUp };
  const z = twoProportionZTest(cp, tp);
  const s = sequentialTestProportions(cp, tp);
  return {
    arm,
    metric: 'thumbs',
    diff: z.ok ? z.value.diff : null,
    relativeLift: z.ok ? z.value.relativeLift : null,
    ci95: z.ok ? toInterval(z.value.ci95) : null,
    pValue: z.ok ? z.value.pValue : null,
    test: 'two-proportion-z',
    reason: z.ok ? null : z.reason,
    sequential: s.ok
      ? { pValue: s.value.pValue, ci95: toInterval(s.value.ci95), method: s.value.method, reason: null }
      : { pValue: null, ci95: null, method: 'mSPRT-normal-mixture', reason: s.reason },
  };
}

/**
 * The results of one experiment. Only the experiment's arms are counted: data naming another arm
 * (a forged or mistaken arm, or an arm the experiment no longer has) is left out and listed by
 * `GET /v1/arms/uncounted`. Deciding this when reading, against the experiment's current arms, keeps
 * the aggregation independent of the order in which experiments and data are consumed, so a replay
 * or a late experiment event gives the same answer. With 20 arms and 50 score names this is ~1,000 comparisons
 * (tens of milliseconds warm, more before the JIT has seen them), so it yields to the event loop
 * after every arm instead of holding it for the whole computation.
 */
export async function computeResults(
  experiment: ExperimentDoc,
  buckets: Bucket[],
  window: { from: Date; to: Date },
  options: ResultsOptions,
  decision: DecisionResult = null,
): Promise<ExperimentResults> {
  const armNames = experiment.arms.map((a) => a.name);
  const merged = mergeArms(buckets, new Set(armNames));
  const empty = (): ArmAgg => ({ values: emptyValues(), latency: null });
  const aggOf = (name: string): ArmAgg => merged.get(name) ?? empty();

  const scoreNames = limitScores([...merged.values()].map((a) => a.values));

  const armResult = (name: string): ArmResult => {
    const { values: v, latency } = aggOf(name);
    const thumbsN = v.thumbsUp + v.thumbsDown;
    const wilson = wilsonInterval(thumbsN, v.thumbsUp);
    const scores: Record<string, MeanResult> = {};
    for (const [escaped, agg] of Object.entries(v.scores)) {
      if (agg.n > 0 && scoreNames.kept.has(escaped)) scores[unescapeScoreName(escaped)] = mean(agg);
    }
    return {
      arm: name,
      exposures: v.exposures,
      generations: v.generations,
      latencyMs: { p50: quantile(latency, 0.5), p95: quantile(latency, 0.95), p99: quantile(latency, 0.99) },
      costPerRequestUsd: v.generations > 0 ? v.costSum / v.generations : null,
      costUsd: v.costSum,
      tokens: {
        prompt: v.promptTokens,
        completion: v.completionTokens,
        total: v.promptTokens + v.completionTokens,
      },
      rating: mean(v.rating),
      thumbs: {
        n: thumbsN,
        up: v.thumbsUp,
        down: v.thumbsDown,
        rate: wilson.ok ? wilson.value.rate : null,
        ci95: wilson.ok ? toInterval(wilson.value.ci95) : null,
        reason: wilson.ok ? null : wilson.reason,
      },
      scores,
      corrections: v.corrections,
      comments: v.comments,
    };
  };
  const arms: ArmResult[] = [];
  for (const name of armNames) {
    arms.push(armResult(name));
    await nextTurn();
  }

  const control = experiment.control;
  const c = aggOf(control);
  const comparisons: ComparisonResult[] = [];
  const effects: SampleSizeInput[] = [];
  for (const name of armNames) {
    if (name === control) continue;
    const t = aggOf(name);
    comparisons.push(compareMeans('rating', name, c.values.rating, t.values.rating));
    comparisons.push(compareThumbs(name, c, t));
    const compared = new Set([...Object.keys(c.values.scores), ...Object.keys(t.values.scores)]);
    for (const escaped of [...compared].filter((n) => scoreNames.kept.has(n)).sort()) {
      const zero = { n: 0, sum: 0, sumSq: 0 };
      comparisons.push(
        compareMeans(
          `score:${unescapeScoreName(escaped)}`,
          name,
          scoreOf(c.values.scores, escaped) ?? zero,
          scoreOf(t.values.scores, escaped) ?? zero,
        ),
      );
    }
    // Sample size is planned on the primary metric: rating when there are ratings, else thumbs.
    effects.push(
      c.values.rating.n + t.values.rating.n > 0
        ? { kind: 'mean', control: c.values.rating, treatment: t.values.rating }
        : {
            kind: 'proportion',
            control: { n: c.values.thumbsUp + c.values.thumbsDown, successes: c.values.thumbsUp },
            treatment: { n: t.values.thumbsUp + t.values.thumbsDown, successes: t.values.thumbsUp },
          },
    );
    await nextTurn();
  }

  // SRM: distinct exposed users against the configured weights (arms of the experiment only).
  const configured = experiment.arms;
  const observed = configured.map((a) => aggOf(a.name).values.exposures);
  const srm = sampleRatioMismatch(
    observed,
    configured.map((a) => a.weight),
  );
  const srmResult = srm.ok
    ? {
        observed: Object.fromEntries(configured.map((a, i) => [a.name, observed[i]])),
        expected: Object.fromEntries(configured.map((a, i) => [a.name, srm.value.expected[i]])),
        chiSquare: Number.isFinite(srm.value.chiSquare) ? srm.value.chiSquare : null,
        pValue: srm.value.pValue,
        mismatch: srm.value.mismatch,
        reason: null,
      }
    : {
        observed: Object.fromEntries(configured.map((a, i) => [a.name, observed[i]])),
        expected: null,
        chiSquare: null,
        pValue: null,
        mismatch: false,
        reason: srm.reason,
      };

  const usesRating = arms.some((a) => a.rating.n > 0);
  const armCounts = armNames.map((n) => {
    const v = aggOf(n).values;
    return usesRating ? v.rating.n : v.thumbsUp + v.thumbsDown;
  });
  const planned = effects.map((e) => sampleSize(e));
  const neededValues = planned.flatMap((p) => (p.ok ? [p.value.neededPerArm] : []));
  const status = sampleSizeStatus({
    armCounts,
    minimumPerArm: options.minimumPerArm,
    recommendedPerArm: options.recommendedPerArm,
  });
  const firstFailure = planned.find((p) => !p.ok);
  return {
    experiment: experiment.key,
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    control,
    arms,
    comparisons,
    scoreNames: {
      limit: MAX_SCORE_NAMES_PER_EXPERIMENT,
      droppedValues: scoreNames.droppedValues,
      droppedNames: scoreNames.droppedNames,
    },
    srm: srmResult,
    decision,
    sampleSize: {
      metric: usesRating ? 'rating' : 'thumbs',
      minimumPerArm: status.minimumPerArm,
      recommendedPerArm: status.recommendedPerArm,
      reached: status.reached,
      recommendedReached: status.recommendedReached,
      // The largest per-arm need over all arm-vs-control comparisons.
      neededPerArm: neededValues.length > 0 ? Math.max(...neededValues) : null,
      reason:
        neededValues.length > 0
          ? null
          : firstFailure && !firstFailure.ok
            ? firstFailure.reason
            : 'fewer-than-2-arms',
    },
  };
}
