/**
 * Sample-ratio mismatch on a 50/50 experiment: 5,300 vs 4,700 distinct users is flagged
 * (p < 0.001), 5,020 vs 4,980 is not. Repeat exposures of the same users must not count.
 */
import { testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { experimentEvent, exposureEvent, type Produced } from './support/scenario';

describe('analytics SRM', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra());
  });

  afterAll(() => analytics?.close());

  it('flags 5300/4700 and not 5020/4980 (distinct users against 50/50 weights)', async () => {
    const at = new Date(Date.now() - 120_000);
    const events: Produced[] = [];
    const split = (exp: string, a: number, b: number) => {
      events.push(
        experimentEvent(
          exp,
          [
            { name: 'a', weight: 50 },
            { name: 'b', weight: 50 },
          ],
          'a',
        ),
      );
      for (let i = 0; i < a; i++) events.push(exposureEvent(exp, 'a', `ua${i}`, at));
      for (let i = 0; i < b; i++) events.push(exposureEvent(exp, 'b', `ub${i}`, at));
      // Returning users: exposed again, still one distinct user each.
      for (let i = 0; i < 200; i++)
        events.push(exposureEvent(exp, i % 2 ? 'a' : 'b', i % 2 ? `ua${i}` : `ub${i}`, at));
    };
    split('srm-bad', 5_300, 4_700);
    split('srm-ok', 5_020, 4_980);
    await analytics.produce(events);
    await analytics.settle({ timeoutMs: 120_000, intervalMs: 500 });
    const bad = (await analytics.inject('/v1/experiments/srm-bad/results')).body as ExperimentResults;
    expect(bad.srm.observed).toEqual({ a: 5_300, b: 4_700 });
    expect(bad.srm.chiSquare).toBeCloseTo(36, 10);
    expect(bad.srm.pValue).toBeLessThan(0.001);
    expect(bad.srm.mismatch).toBe(true);
    const ok = (await analytics.inject('/v1/experiments/srm-ok/results')).body as ExperimentResults;
    expect(ok.srm.observed).toEqual({ a: 5_020, b: 4_980 });
    expect(ok.srm.mismatch).toBe(false);
    expect(ok.srm.pValue).toBeGreaterThan(0.5);
  }, 180_000);
});
