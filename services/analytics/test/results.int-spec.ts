/**
 * Reference scenario (ratings per variant -> mean and n, as in the reference design's collector
 * summary) checked against SciPy fixture values; the feedback->generation join in both orders,
 * unattributed feedback staying visible; /metrics equal to the results API; degenerate cases.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectEventually, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import {
  experimentEvent,
  exposureEvent,
  feedbackEvent,
  generationEvent,
  type Produced,
} from './support/scenario';

interface Fixture {
  ratings: Record<'A' | 'B', number[]>;
  thumbs: Record<'A' | 'B', { up: number; n: number }>;
  exposures: Record<'A' | 'B', number>;
  expected: {
    rating: Record<'A' | 'B', { n: number; mean: number; sd: number; ci95: [number, number] }>;
    thumbs: Record<'A' | 'B', { n: number; up: number; rate: number; ci95: [number, number] }>;
    welch: { diff: number; relativeLift: number; ci95: [number, number]; pValue: number };
    twoProportion: { diff: number; pValue: number };
    srm: { chiSquare: number; pValue: number };
  };
}

const fixture = JSON.parse(
  readFileSync(path.join(__dirname, 'fixtures/reference-scenario.json'), 'utf8'),
) as Fixture;

function close(actual: number | null | undefined, expected: number, rel = 1e-9): void {
  expect(typeof actual).toBe('number');
  const err = Math.abs((actual as number) - expected) / Math.max(Math.abs(expected), 1e-300);
  if (err > rel) throw new Error(`expected ${expected}, got ${String(actual)} (relative error ${err})`);
}

describe('analytics results API (real Kafka + MongoDB)', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra());
  });

  afterAll(() => analytics?.close());

  it('reference scenario: mean rating and n per variant, CIs and tests match SciPy to 1e-9', async () => {
    const exp = 'ref-exp';
    const at = new Date(Date.now() - 5 * 60_000);
    const events: Produced[] = [
      experimentEvent(
        exp,
        [
          { name: 'A', weight: 1 },
          { name: 'B', weight: 1 },
        ],
        'A',
      ),
    ];
    for (const arm of ['A', 'B'] as const) {
      for (let i = 0; i < fixture.exposures[arm]; i++)
        events.push(exposureEvent(exp, arm, `${arm}-u${i}`, at));
      fixture.ratings[arm].forEach((rating, i) => {
        const requestId = `${exp}-${arm}-r${i}`;
        events.push(generationEvent(requestId, exp, arm, at, 100 + i, 0.001, [10, 5]));
        events.push(
          feedbackEvent({
            feedbackId: `${requestId}-f`,
            requestId,
            experiment: exp,
            arm,
            rating,
            revision: 1,
            edit: null,
            at,
          }),
        );
      });
      const { up, n } = fixture.thumbs[arm];
      for (let i = 0; i < n; i++) {
        const requestId = `${exp}-${arm}-t${i}`;
        events.push(
          feedbackEvent({
            feedbackId: `${requestId}-f`,
            requestId,
            experiment: exp,
            arm,
            thumbs: i < up ? 'up' : 'down',
            revision: 1,
            edit: null,
            at,
          }),
        );
      }
    }
    await analytics.produce(events);
    await analytics.settle();

    const { status, body } = await analytics.inject(`/v1/experiments/${exp}/results?window=24h`);
    expect(status).toBe(200);
    const res = body as ExperimentResults;
    expect(res.control).toBe('A');
    const e = fixture.expected;
    for (const arm of ['A', 'B'] as const) {
      const a = res.arms.find((x) => x.arm === arm)!;
      // The reference design's collector summary: { mean, n } per variant.
      expect(a.rating.n).toBe(e.rating[arm].n);
      close(a.rating.mean, e.rating[arm].mean);
      close(a.rating.sd, e.rating[arm].sd);
      close(a.rating.ci95?.[0], e.rating[arm].ci95[0]);
      close(a.rating.ci95?.[1], e.rating[arm].ci95[1]);
      expect(a.thumbs.n).toBe(e.thumbs[arm].n);
      expect(a.thumbs.up).toBe(e.thumbs[arm].up);
      close(a.thumbs.rate, e.thumbs[arm].rate);
      close(a.thumbs.ci95?.[0], e.thumbs[arm].ci95[0]);
      close(a.thumbs.ci95?.[1], e.thumbs[arm].ci95[1]);
      expect(a.exposures).toBe(fixture.exposures[arm]);
      expect(a.generations).toBe(fixture.ratings[arm].length);
      close(a.costPerRequestUsd, 0.001);
      expect(a.tokens).toEqual({
        prompt: 10 * a.generations,
        completion: 5 * a.generations,
        total: 15 * a.generations,
      });
      // Latencies are 100..100+n-1 ms; DDSketch guarantees 1% relative accuracy.
      const n = fixture.ratings[arm].length;
      expect(Math.abs(a.latencyMs.p50! - (100 + Math.floor(0.5 * (n - 1)))) / (100 + 0.5 * n)).toBeLessThan(
        0.011,
      );
    }
    const rating = res.comparisons.find((c) => c.arm === 'B' && c.metric === 'rating')!;
    expect(rating.test).toBe('welch-t');
    close(rating.diff, e.welch.diff);
    close(rating.relativeLift, e.welch.relativeLift);
    close(rating.ci95?.[0], e.welch.ci95[0]);
    close(rating.ci95?.[1], e.welch.ci95[1]);
    close(rating.pValue, e.welch.pValue);
    expect(rating.sequential.method).toBe('mSPRT-normal-mixture');
    expect(rating.sequential.pValue).toBeGreaterThanOrEqual(rating.pValue!); // always-valid is more conservative here
    const thumbs = res.comparisons.find((c) => c.arm === 'B' && c.metric === 'thumbs')!;
    expect(thumbs.test).toBe('two-proportion-z');
    close(thumbs.diff, e.twoProportion.diff);
    close(thumbs.pValue, e.twoProportion.pValue);
    close(res.srm.chiSquare, e.srm.chiSquare);
    close(res.srm.pValue, e.srm.pValue);
    expect(res.srm.mismatch).toBe(false);
    expect(res.sampleSize).toMatchObject({
      minimumPerArm: 200,
      recommendedPerArm: 500,
      reached: true,
      recommendedReached: false,
    });
    expect(res.sampleSize.neededPerArm).toBeGreaterThan(500);

    // Windows: all buckets are 5 minutes old, so 1h and 24h include them and a window before excludes them.
    const before = await analytics.inject(
      `/v1/experiments/${exp}/results?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`,
    );
    const empty = before.body as ExperimentResults;
    expect(empty.arms.map((a) => a.rating)).toEqual([
      { n: 0, mean: null, sd: null, ci95: null, reason: 'no-data' },
      { n: 0, mean: null, sd: null, ci95: null, reason: 'no-data' },
    ]);
    expect(empty.comparisons[0]).toMatchObject({ diff: null, pValue: null, reason: 'no-data' });
    const hour = (await analytics.inject(`/v1/experiments/${exp}/results?window=1h`))
      .body as ExperimentResults;
    expect(hour.arms[0].rating.n).toBe(e.rating.A.n);

    // /metrics shows the same values as the results API.
    await expectEventually(
      async () => {
        const text = (await analytics.inject('/metrics')).text;
        const all = (await analytics.inject(`/v1/experiments/${exp}/results?window=all`))
          .body as ExperimentResults;
        for (const a of all.arms) {
          const labels = `experiment="${exp}",arm="${a.arm}"`;
          const metric = (name: string) => {
            const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}`));
            return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
          };
          expect(metric('llmops_experiment_exposed_users')).toBe(a.exposures);
          expect(metric('llmops_experiment_generations')).toBe(a.generations);
          expect(metric('llmops_experiment_rating_mean')).toBe(a.rating.mean);
          expect(metric('llmops_experiment_rating_ci95_lower')).toBe(a.rating.ci95![0]);
          expect(metric('llmops_experiment_rating_ci95_upper')).toBe(a.rating.ci95![1]);
          expect(metric('llmops_experiment_thumbs_up_ratio')).toBe(a.thumbs.rate);
          expect(metric('llmops_experiment_latency_p50_milliseconds')).toBe(a.latencyMs.p50);
          expect(metric('llmops_experiment_latency_p95_milliseconds')).toBe(a.latencyMs.p95);
          expect(metric('llmops_experiment_latency_p99_milliseconds')).toBe(a.latencyMs.p99);
          expect(metric('llmops_experiment_cost_per_request_usd')).toBe(a.costPerRequestUsd);
        }
        expect(text).toContain(`llmops_experiment_srm_p_value{experiment="${exp}"`);
        expect(text).toMatch(/llmops_consumer_lag_messages\{/);
        expect(text).toMatch(/llmops_analytics_events_total\{type="feedback",outcome="applied"/);
      },
      { timeoutMs: 15_000 },
    );
  });

  it('joins feedback naming no arm to its generation in either order; unknown ones stay visible', async () => {
    const exp = 'join-exp';
    const at = new Date(Date.now() - 60_000);
    await analytics.produce([
      experimentEvent(
        exp,
        [
          { name: 'c', weight: 1 },
          { name: 't', weight: 1 },
        ],
        'c',
      ),
      // generation first, then feedback without arm
      generationEvent('join-r1', exp, 't', at, 10, 0, [1, 1]),
    ]);
    await analytics.settle();
    await analytics.produce([
      feedbackEvent({ feedbackId: 'join-f1', requestId: 'join-r1', rating: 5, revision: 1, edit: null, at }),
      // feedback first: its generation has not been seen yet
      feedbackEvent({ feedbackId: 'join-f2', requestId: 'join-r2', rating: 1, revision: 1, edit: null, at }),
      feedbackEvent({
        feedbackId: 'join-f3',
        requestId: 'join-never',
        rating: 3,
        revision: 1,
        edit: null,
        at,
      }),
    ]);
    await analytics.settle();
    const parked = (await analytics.inject('/v1/feedback/unattributed')).body as {
      count: number;
      items: Array<{ feedbackId: string; reason: string }>;
    };
    expect(parked.items.map((i) => i.feedbackId).sort()).toEqual(['join-f2', 'join-f3']);
    expect(parked.items[0].reason).toBe('generation_not_seen');
    let res = (await analytics.inject(`/v1/experiments/${exp}/results`)).body as ExperimentResults;
    expect(res.arms.find((a) => a.arm === 't')!.rating).toMatchObject({ n: 1, mean: 5, reason: 'n<2' });

    await analytics.produce([generationEvent('join-r2', exp, 't', at, 10, 0, [1, 1])]);
    await analytics.settle();
    res = (await analytics.inject(`/v1/experiments/${exp}/results`)).body as ExperimentResults;
    const t = res.arms.find((a) => a.arm === 't')!;
    expect(t.rating.n).toBe(2);
    expect(t.rating.mean).toBe(3);
    expect(t.rating.sd).toBeCloseTo(Math.SQRT2 * 2, 12);
    // Control has no ratings at all: comparisons are null with a reason, never NaN.
    expect(res.comparisons.find((c) => c.metric === 'rating')).toMatchObject({
      diff: null,
      reason: 'no-data',
    });
    const still = (await analytics.inject('/v1/feedback/unattributed')).body as {
      count: number;
      items: Array<{ feedbackId: string }>;
    };
    expect(still.items.map((i) => i.feedbackId)).toEqual(['join-f3']);
    await expectEventually(
      async () => {
        expect((await analytics.inject('/metrics')).text).toMatch(
          /^llmops_analytics_feedback_unattributed(\{[^}]*\})? 1$/m,
        );
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  it('rejects a bad window and answers 404 for an unknown experiment', async () => {
    expect((await analytics.inject('/v1/experiments/ref-exp/results?window=2h')).status).toBe(400);
    const missing = await analytics.inject('/v1/experiments/nope/results');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { code: string } }).error.code).toBe('experiment_not_found');
  });
});
