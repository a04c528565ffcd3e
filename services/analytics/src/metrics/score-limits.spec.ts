import { Registry } from 'prom-client';
import { type Bucket, emptyBucket } from '../domain/bucket';
import type { ExperimentDoc } from '../persistence/analytics.schemas';
import { AnalyticsMetrics } from './analytics-metrics';
import { computeResults } from '../results/compute-results';
import type { ExperimentResults } from '../results/dto/results.response';

const options = { minimumPerArm: 200, recommendedPerArm: 500 };
const window = { from: new Date(0), to: new Date(3_600_000) };

function experiment(key: string, arms: string[]): ExperimentDoc {
  return {
    _id: key,
    project: 'default',
    key,
    revision: 1,
    status: 'running',
    control: arms[0],
    arms: arms.map((name) => ({ name, weight: 1 })),
    phase: 1,
    phaseStartedAt: null,
    stoppedAt: null,
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** One bucket of `arm` whose every score name in `counts` has n values of 1 and 3 (mean 2). */
function bucket(exp: string, arm: string, part: number, counts: Record<string, number>): Bucket {
  const b = emptyBucket('default', exp, arm, 0, 'f', part);
  b.exposures = 10;
  for (const [name, n] of Object.entries(counts)) b.scores[name] = { n, sum: 2 * n, sumSq: 5 * n };
  return b;
}

const namesOf = (prefix: string, count: number, n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${String(i).padStart(2, '0')}`, n]));

describe('score names in results', () => {
  it('shows at most 50 names: across partitions, those with the most values; the rest are reported', async () => {
    // Partition 0 tracked s00..s49; partition 1 tracked x00..x29 first, then 20 of the s names.
    const buckets = [
      bucket('e', 'A', 0, namesOf('s', 50, 4)),
      bucket('e', 'B', 0, namesOf('s', 50, 4)),
      bucket('e', 'A', 1, { ...namesOf('x', 30, 1), ...namesOf('s', 20, 1) }),
    ];
    buckets[0].droppedScores = 7;
    buckets[0].droppedScoreNames = ['late%2Ename', 'zz'];
    const r = await computeResults(experiment('e', ['A', 'B']), buckets, window, options);
    const expectedNames = Object.keys(namesOf('s', 50, 0));
    expect(Object.keys(r.arms[0].scores).sort()).toEqual(expectedNames);
    expect(Object.keys(r.arms[1].scores).sort()).toEqual(expectedNames);
    expect(r.arms[0].scores.s00).toMatchObject({ n: 5, mean: 2 });
    expect(r.comparisons.filter((c) => c.metric.startsWith('score:'))).toHaveLength(50);
    expect(r.scoreNames).toEqual({
      limit: 50,
      droppedValues: 7 + 30,
      droppedNames: ['late.name', ...Object.keys(namesOf('x', 19, 0))],
    });
  });

  it('reports nothing dropped below the limit', async () => {
    const r = await computeResults(
      experiment('e', ['A', 'B']),
      [bucket('e', 'A', 0, { relevance: 2 })],
      window,
      options,
    );
    expect(r.scoreNames).toEqual({ limit: 50, droppedValues: 0, droppedNames: [] });
  });

  it('20 arms x 50 names: the results body stays under 1 MB', async () => {
    const arms = Array.from({ length: 20 }, (_, i) => `arm-${i}`);
    const buckets = arms.map((arm, i) => bucket('e', arm, i % 6, namesOf('s', 50, 3)));
    const r = await computeResults(experiment('e', arms), buckets, window, options);
    expect(r.comparisons).toHaveLength(19 * 52);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(1024 * 1024);
  });
});

describe('series budget of /metrics', () => {
  const results = (key: string, arms: number, scores: number): Promise<ExperimentResults> => {
    const names = Array.from({ length: arms }, (_, i) => `arm-${i}`);
    const buckets = names.map((arm, i) => bucket(key, arm, i % 6, namesOf('s', scores, 3)));
    return computeResults(experiment(key, names), buckets, window, options);
  };
  const seriesOf = async (registry: Registry, prefix = 'llmops_experiment_') =>
    (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

  it('admits groups in priority order within the budget, counts what it omits, removes what left', async () => {
    const registry = new Registry();
    const metrics = new AnalyticsMetrics(registry);
    const all = await Promise.all(['e1', 'e2', 'e3'].map((k) => results(k, 4, 50)));
    // Per experiment: 4 arms x 3 gauges (exposures, generations, ratings: the others are null here)
    // + SRM p-value + dropped score values = 14; sequential rating/thumbs: none (n < 2); per score:
    // 4 means + 3 p-values.
    const { exported, omitted } = metrics.publishAll(all, 300);
    expect(exported).toBeLessThanOrEqual(300);
    const lines = await seriesOf(registry);
    expect(lines).toHaveLength(exported);
    for (const e of ['e1', 'e2', 'e3'])
      expect(
        lines.filter((l) => l.startsWith(`llmops_experiment_exposed_users{experiment="${e}"`)),
      ).toHaveLength(4);
    // Score groups round robin: every experiment gets its first names before anyone gets more.
    const scoreNames = (e: string) =>
      new Set(
        lines
          .filter((l) => l.startsWith(`llmops_experiment_score_mean{experiment="${e}"`))
          .map((l) => /score="([^"]+)"/.exec(l)?.[1]),
      );
    expect(scoreNames('e1')).toEqual(new Set(Object.keys(namesOf('s', 12, 0))));
    expect(scoreNames('e3').size).toBe(12);
    expect(exported).toBe(3 * 14 + 36 * 7);
    expect(omitted).toBe(3 * (14 + 50 * 7) - exported);
    expect(await seriesOf(registry, 'llmops_analytics_metrics_series_omitted ')).toEqual([
      `llmops_analytics_metrics_series_omitted ${omitted}`,
    ]);

    // An experiment no longer published loses every series.
    metrics.publishAll([all[1]], 300);
    expect((await seriesOf(registry)).filter((l) => !l.includes('experiment="e2"'))).toEqual([]);
    expect(metrics.exportedExperiments()).toEqual(['e2']);
  });
});
