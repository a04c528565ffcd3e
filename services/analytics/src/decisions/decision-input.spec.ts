import {
  EVENT_SOURCES,
  EVENT_TYPES,
  createEvent,
  ExperimentDecisionPolicySchema,
  type ExperimentDecisionPolicy,
} from '@llmops/contracts';
import { evaluateDecision } from '@llmops/stats';
import { addValues, type BucketValues, emptyValues, escapeScoreName } from '../domain/bucket';
import { experimentDoc } from '../../test/support/planner';
import { decisionArms, decisionEventData, metricStats, policyMetrics } from './decision-input';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

const experiment = experimentDoc({
  arms: [
    { name: 'A', weight: 1, prompt: { name: 'p', hash: HASH_A } },
    { name: 'B', weight: 1, prompt: { name: 'p', hash: HASH_B } },
  ],
  phase: 2,
});

const policy = (raw: object): ExperimentDecisionPolicy => ExperimentDecisionPolicySchema.parse(raw);

/** An arm's merged values from per-generation latencies and per-feedback ratings / thumbs. */
function arm(o: { latency?: number[]; cost?: number[]; ratings?: number[]; up?: number; down?: number }) {
  const values = emptyValues();
  for (const x of o.latency ?? []) {
    const d = emptyValues();
    d.generations = 1;
    d.latencyMoments = { n: 1, sum: x, sumSq: x * x };
    addValues(values, d);
  }
  for (const x of o.cost ?? [])
    addValues(values, { ...emptyValues(), costMoments: { n: 1, sum: x, sumSq: x * x } });
  for (const x of o.ratings ?? [])
    addValues(values, { ...emptyValues(), rating: { n: 1, sum: x, sumSq: x * x } });
  values.thumbsUp = o.up ?? 0;
  values.thumbsDown = o.down ?? 0;
  return { values };
}

describe('metricStats', () => {
  const v: BucketValues = {
    ...emptyValues(),
    rating: { n: 3, sum: 12, sumSq: 50 },
    thumbsUp: 7,
    thumbsDown: 3,
    scores: { [escapeScoreName('tone.friendly')]: { n: 2, sum: 1.5, sumSq: 1.25 } },
    latencyMoments: { n: 4, sum: 400, sumSq: 41_000 },
    costMoments: { n: 2, sum: 0.02, sumSq: 0.0002 },
  };

  it('maps every policy metric to its (n, Σx, Σx²)', () => {
    expect(metricStats(v, 'rating')).toEqual({ n: 3, sum: 12, sumSq: 50 });
    expect(metricStats(v, 'thumbs')).toEqual({ n: 10, sum: 7, sumSq: 7 });
    expect(metricStats(v, 'thumbsDownRate')).toEqual({ n: 10, sum: 3, sumSq: 3 });
    expect(metricStats(v, 'latencyMs')).toEqual({ n: 4, sum: 400, sumSq: 41_000 });
    expect(metricStats(v, 'costUsd')).toEqual({ n: 2, sum: 0.02, sumSq: 0.0002 });
    expect(metricStats(v, 'score:tone.friendly')).toEqual({ n: 2, sum: 1.5, sumSq: 1.25 });
  });

  it('gives no data for a score never seen and for buckets written before moments were kept', () => {
    expect(metricStats(v, 'score:other')).toBeUndefined();
    expect(metricStats(emptyValues(), 'latencyMs')).toBeUndefined();
    expect(metricStats(emptyValues(), 'costUsd')).toBeUndefined();
  });
});

describe('decisionArms', () => {
  it("lists the experiment's arms only, with the policy's metrics only, missing arms as no data", () => {
    const p = policy({
      primary: 'rating',
      direction: 'increase',
      guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
    });
    expect(policyMetrics(p)).toEqual(['rating', 'latencyMs']);
    const merged = new Map([
      ['A', arm({ latency: [100, 120], ratings: [4, 5] })],
      ['Z', arm({ ratings: [1] })],
    ]);
    expect(decisionArms(experiment, p, merged)).toEqual({
      control: 'A',
      arms: [
        {
          arm: 'A',
          metrics: { rating: { n: 2, sum: 9, sumSq: 41 }, latencyMs: { n: 2, sum: 220, sumSq: 24_400 } },
        },
        { arm: 'B', metrics: { rating: undefined, latencyMs: undefined } },
      ],
    });
  });
});

describe('decisionEventData', () => {
  const gen = (n: number, mean: number, spread: number) =>
    Array.from({ length: n }, (_, i) => mean + ((i % 5) - 2) * spread);

  it('a clear primary effect gives a winner with its prompt version, a valid event', () => {
    const p = policy({ primary: 'rating', direction: 'increase', autoPromote: { alias: 'production' } });
    const merged = new Map([
      ['A', arm({ ratings: gen(400, 3, 1) })],
      ['B', arm({ ratings: gen(400, 4, 1) })],
    ]);
    const r = evaluateDecision(p, decisionArms(experiment, p, merged));
    if (!r.ok) throw new Error(r.detail);
    const data = decisionEventData(experiment, p, r.value, null, '2025-01-01T00:00:00.000Z');
    expect(data).toMatchObject({
      experimentKey: 'e',
      phase: 2,
      verdict: 'winner',
      previousVerdict: null,
      winner: { arm: 'B', prompt: { name: 'p', hash: HASH_B } },
      breaches: [],
      control: 'A',
      alpha: 0.05,
      policy: p,
    });
    expect(data.primary).toEqual([
      expect.objectContaining({ metric: 'rating', arm: 'B', decided: 'better', reason: null }),
    ]);
    expect(data.primary[0].adjustedPValue).toBeLessThan(0.05);
    expect(() =>
      createEvent(EVENT_TYPES.experimentDecision, data, { source: EVENT_SOURCES.analytics }),
    ).not.toThrow();
  });

  it('a treatment far slower than control under a tight margin gives a breach listing the guardrail', () => {
    const p = policy({
      primary: 'rating',
      direction: 'increase',
      guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
    });
    const merged = new Map([
      ['A', arm({ latency: gen(300, 100, 10), ratings: gen(50, 4, 1) })],
      ['B', arm({ latency: gen(300, 300, 30), ratings: gen(50, 4, 1) })],
    ]);
    const r = evaluateDecision(p, decisionArms(experiment, p, merged));
    if (!r.ok) throw new Error(r.detail);
    const data = decisionEventData(experiment, p, r.value, 'continue', '2025-01-01T00:00:00.000Z');
    expect(data.verdict).toBe('guardrail-breach');
    expect(data.winner).toBeNull();
    expect(data.breaches).toEqual([
      { arm: 'B', guardrail: 'latencyMs maxRelativeIncrease=0.1', metric: 'latencyMs' },
    ]);
    expect(data.guardrails[0]).toMatchObject({ arm: 'B', scale: 'log-ratio', breached: true });
    expect(() =>
      createEvent(EVENT_TYPES.experimentDecision, data, { source: EVENT_SOURCES.analytics }),
    ).not.toThrow();
  });

  it('refuses to name a winner whose prompt version the snapshot did not carry', () => {
    const p = policy({ primary: 'rating', direction: 'increase' });
    const bare = { ...experiment, arms: experiment.arms.map(({ name, weight }) => ({ name, weight })) };
    const merged = new Map([
      ['A', arm({ ratings: gen(400, 3, 1) })],
      ['B', arm({ ratings: gen(400, 4, 1) })],
    ]);
    const r = evaluateDecision(p, decisionArms(bare, p, merged));
    if (!r.ok) throw new Error(r.detail);
    expect(() => decisionEventData(bare, p, r.value, null, '2025-01-01T00:00:00.000Z')).toThrow(
      /no prompt version/,
    );
  });
});
