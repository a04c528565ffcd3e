/**
 * Decision policies end to end in the analytics service (real Kafka + MongoDB): it evaluates every
 * running experiment with a policy and publishes `io.llmops.experiment.decision.v1` when a
 * verdict changes, with a deterministic id, and never when nothing changes; a verdict published
 * before a pause is published again on resume; with several treatments the p-values are
 * Holm-adjusted.
 */
import {
  createEvent,
  EVENT_TYPES,
  type ExperimentDecisionData,
  type ExperimentDecisionPolicyInput,
  type ExperimentSnapshot,
  parseEvent,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { expectEventually, HASH_B, snapshot, startTopicReader, testInfra, threeArms } from '@llmops/testing';
import { holmAdjust } from '@llmops/stats';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { inject, startApp, type TestApp } from './support/app';
import { feedbackEvent, generationEvent, type Produced } from './support/scenario';

function experimentWithPolicy(
  key: string,
  decision: ExperimentDecisionPolicyInput,
  overrides: Partial<ExperimentSnapshot> = {},
  type:
    | typeof EVENT_TYPES.experimentCreated
    | typeof EVENT_TYPES.experimentStatusChanged = EVENT_TYPES.experimentCreated,
): Produced {
  const ev = createEvent(
    type,
    {
      experiment: { ...snapshot({ key, seed: key, ...overrides }), decision },
      changedAt: new Date().toISOString(),
    },
    { source: '/llmops/test' },
  );
  return { topic: 'e', key, value: serializeEvent(ev) };
}

/** Deterministic values around `mean`: mean + {-2, -1, 0, 1, 2} · spread, repeated. */
const around = (i: number, mean: number, spread: number) => mean + ((i % 5) - 2) * spread;

function generations(exp: string, arm: string, n: number, latencyMean: number): Produced[] {
  const at = new Date();
  return Array.from({ length: n }, (_, i) =>
    generationEvent(
      `${exp}-${arm}-${i}`,
      exp,
      arm,
      at,
      around(i, latencyMean, latencyMean / 10),
      0.001,
      [10, 20],
    ),
  );
}

function ratings(exp: string, arm: string, n: number, mean: number): Produced[] {
  const at = new Date();
  return Array.from({ length: n }, (_, i) =>
    feedbackEvent({
      feedbackId: `${exp}-${arm}-f${i}`,
      requestId: `${exp}-${arm}-r${i}`,
      experiment: exp,
      arm,
      rating: Math.min(5, Math.max(1, Math.round(around(i, mean, 0.5)))),
      revision: 1,
      edit: null,
      at,
    }),
  );
}

async function resultsOf(target: TestApp, exp: string): Promise<ExperimentResults> {
  const res = await inject(target, `/v1/experiments/${exp}/results`);
  expect(res.status).toBe(200);
  return res.body as ExperimentResults;
}

/**
 * The service evaluating decisions every 500 ms over 2 partitions, and a reader of the decisions
 * topic; `experiments` are consumed first (until `ready` shows its control arm), then `data`.
 */
async function startDecisionsFixture(
  experiments: Produced[],
  ready: { experiment: string; control: string },
  data: Produced[],
) {
  const analytics = await AnalyticsFixture.start(testInfra(), {
    partitions: 2,
    env: { ANALYTICS_DECISION_INTERVAL_MS: '500' },
  });
  const reader = await startTopicReader(
    analytics.infra.kafkaBrokers,
    topicName(TOPICS.experimentDecisions, analytics.infra.topicPrefix),
  );
  await analytics.produce(experiments);
  await expectEventually(async () =>
    expect((await resultsOf(analytics.app, ready.experiment)).control).toBe(ready.control),
  );
  await analytics.produce(data);
  await analytics.settle();
  const decisions = () =>
    reader.records.map((r) => {
      const e = parseEvent(r.value);
      return { key: r.key, id: e.id, data: e.data as ExperimentDecisionData };
    });
  return {
    analytics,
    decisions,
    decisionsOf: (exp: string) => decisions().filter((d) => d.data.experimentKey === exp),
    results: (exp: string) => resultsOf(analytics.app, exp),
    async close(): Promise<void> {
      await reader.stop();
      await analytics.close();
    },
  };
}

describe('decision policies (real Kafka + MongoDB)', () => {
  let fixture: Awaited<ReturnType<typeof startDecisionsFixture>>;
  const decisions = () => fixture.decisions();
  const decisionsOf = (exp: string) => fixture.decisionsOf(exp);
  const results = (exp: string) => fixture.results(exp);

  beforeAll(async () => {
    fixture = await startDecisionsFixture(
      [
        experimentWithPolicy('slow-variant', {
          primary: 'rating',
          direction: 'increase',
          guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
          autoStop: { onGuardrailBreach: true },
        }),
        experimentWithPolicy('better-variant', {
          primary: 'rating',
          direction: 'increase',
          autoPromote: { alias: 'production' },
        }),
        experimentWithPolicy('same-variant', { primary: 'rating', direction: 'increase' }),
      ],
      { experiment: 'same-variant', control: 'A' },
      [
        ...generations('slow-variant', 'A', 300, 100),
        ...generations('slow-variant', 'B', 300, 300),
        ...ratings('better-variant', 'A', 300, 3),
        ...ratings('better-variant', 'B', 300, 4.5),
        ...ratings('same-variant', 'A', 20, 4),
        ...ratings('same-variant', 'B', 20, 4),
      ],
    );
  });

  afterAll(() => fixture?.close());

  it('a treatment far slower than control under a tight latency margin: one guardrail-breach event', async () => {
    await expectEventually(() => expect(decisionsOf('slow-variant')).toHaveLength(1), { timeoutMs: 30_000 });
    const [event] = decisionsOf('slow-variant');
    expect(event.key).toBe('slow-variant');
    expect(event.data).toMatchObject({
      phase: 1,
      verdict: 'guardrail-breach',
      previousVerdict: null,
      winner: null,
      breaches: [{ arm: 'B', guardrail: 'latencyMs maxRelativeIncrease=0.1', metric: 'latencyMs' }],
      control: 'A',
      policy: { autoStop: { onGuardrailBreach: true, onDecision: false } },
    });
    expect(event.data.guardrails[0].adjustedBreachPValue).toBeLessThan(0.05);
    // Evaluated after some batch of the stream: B is about three times as slow as A.
    expect(event.data.guardrails[0].relativeChange).toBeGreaterThan(1);
  });

  it('a clear primary effect: one winner event naming the arm and its prompt version', async () => {
    await expectEventually(() => expect(decisionsOf('better-variant')).toHaveLength(1), {
      timeoutMs: 30_000,
    });
    const [event] = decisionsOf('better-variant');
    expect(event.data).toMatchObject({
      verdict: 'winner',
      previousVerdict: null,
      winner: { arm: 'B', prompt: { name: 'p', hash: HASH_B } },
      breaches: [],
      policy: { autoPromote: { alias: 'production' } },
    });
    expect(event.data.primary).toEqual([
      expect.objectContaining({ metric: 'rating', arm: 'B', decided: 'better' }),
    ]);
  });

  it('the results show the verdict with raw and Holm-adjusted p-values; the metrics count it', async () => {
    const r = await results('better-variant');
    expect(r.decision).toMatchObject({
      phase: 1,
      verdict: 'winner',
      publishedVerdict: 'winner',
      eventId: decisionsOf('better-variant')[0].id,
      winner: { arm: 'B' },
    });
    expect(r.decision?.primary[0].pValue).toBeLessThan(0.05);
    expect(r.decision?.primary[0].adjustedPValue).toBe(r.decision?.primary[0].pValue);
    // The breach gauge is set at the end of an evaluation round.
    await expectEventually(async () => {
      const { text } = await fixture.analytics.inject('/metrics', {});
      expect(text).toMatch(/llmops_analytics_decisions_total\{verdict="winner"[^}]*\} 1\n/);
      expect(text).toMatch(/llmops_analytics_decisions_total\{verdict="guardrail-breach"[^}]*\} 1\n/);
      expect(text).toMatch(/llmops_analytics_decisions_total\{verdict="continue"[^}]*\} 0\n/);
      expect(text).toMatch(/llmops_analytics_experiments_in_guardrail_breach\{[^}]*\} 1\n/);
    });
  });

  it('nothing changes, nothing is published: later evaluations add no event', async () => {
    const before = (await results('same-variant')).decision;
    expect(before).toMatchObject({ verdict: 'continue', publishedVerdict: null, eventId: null });
    // Several more evaluation rounds (every 500 ms) of all three experiments.
    await expectEventually(
      async () =>
        expect(Date.parse((await results('same-variant')).decision!.evaluatedAt)).toBeGreaterThan(
          Date.parse(before!.evaluatedAt) + 2_000,
        ),
      { timeoutMs: 30_000 },
    );
    expect(decisionsOf('same-variant')).toEqual([]);
    expect(decisionsOf('slow-variant')).toHaveLength(1);
    expect(decisionsOf('better-variant')).toHaveLength(1);
  });

  it('a replay into an empty database publishes the same verdicts with the same event ids', async () => {
    const first = new Map(decisions().map((d) => [d.data.experimentKey, d.id]));
    const { analytics } = fixture;
    await analytics.stopApp();
    const replay = await startApp(analytics.infra, `${analytics.groupId}-replay`, {
      ANALYTICS_DECISION_INTERVAL_MS: '500',
      MONGODB_DB: `${analytics.infra.dbName}_replay`,
    });
    try {
      await expectEventually(
        () => {
          expect(decisionsOf('slow-variant')).toHaveLength(2);
          expect(decisionsOf('better-variant')).toHaveLength(2);
        },
        { timeoutMs: 60_000 },
      );
      for (const d of decisions()) expect(d.id).toBe(first.get(d.data.experimentKey));
      expect(decisionsOf('same-variant')).toEqual([]);
    } finally {
      await replay.close();
    }
  });
});

describe('decision policies across a pause and with several treatments (real Kafka + MongoDB)', () => {
  let fixture: Awaited<ReturnType<typeof startDecisionsFixture>>;
  const decisionsOf = (exp: string) => fixture.decisionsOf(exp);
  const results = (exp: string) => fixture.results(exp);

  beforeAll(async () => {
    fixture = await startDecisionsFixture(
      [
        experimentWithPolicy('same-variant', { primary: 'rating', direction: 'increase' }),
        experimentWithPolicy('paused-winner', { primary: 'rating', direction: 'increase' }),
        experimentWithPolicy(
          'three-arms',
          { primary: 'rating', direction: 'increase' },
          { control: 'control', arms: threeArms([0.34, 0.33, 0.33]) },
        ),
      ],
      { experiment: 'three-arms', control: 'control' },
      [
        ...ratings('same-variant', 'A', 20, 4),
        ...ratings('same-variant', 'B', 20, 4),
        ...ratings('paused-winner', 'A', 300, 3),
        ...ratings('paused-winner', 'B', 300, 4.5),
        ...ratings('three-arms', 'control', 20, 3),
        ...ratings('three-arms', 'short', 20, 3.5),
        ...ratings('three-arms', 'long', 20, 4),
      ],
    );
  });

  afterAll(() => fixture?.close());

  it('with two treatment arms the results show Holm-adjusted p-values beside the raw ones', async () => {
    // An evaluation may run before every rating is applied (no statistic yet, or a weak one); wait
    // for one that has seen the effect (running minima only go down), where Holm's doubling of the
    // smallest p-value stays below 1.
    const primary = await expectEventually(
      async () => {
        const p = (await results('three-arms')).decision?.primary;
        expect(p?.map((x) => x.arm)).toEqual(['short', 'long']);
        const pValues = p!.map((x) => x.pValue);
        expect(pValues.every((v) => typeof v === 'number')).toBe(true);
        expect(Math.min(...(pValues as number[]))).toBeLessThan(0.5);
        return p!;
      },
      { timeoutMs: 30_000 },
    );
    const raw = primary.map((p) => p.pValue as number);
    const adjusted = primary.map((p) => p.adjustedPValue);
    expect(adjusted).toEqual(holmAdjust(raw));
    // Holm multiplies the smallest raw p-value by the number of treatments.
    const smallest = raw.indexOf(Math.min(...raw));
    expect(raw[smallest]).toBeGreaterThan(0);
    expect(adjusted[smallest]).toBeCloseTo(2 * raw[smallest], 12);
    expect(adjusted[smallest]).not.toBe(raw[smallest]);
  });

  it('a verdict published before a pause is withdrawn while paused and published again on resume', async () => {
    await expectEventually(() => expect(decisionsOf('paused-winner')).toHaveLength(1), {
      timeoutMs: 30_000,
    });
    const [first] = decisionsOf('paused-winner');
    expect(first.data).toMatchObject({ verdict: 'winner', previousVerdict: null, winner: { arm: 'B' } });
    const statusChange = (status: ExperimentSnapshot['status'], revision: number) =>
      experimentWithPolicy(
        'paused-winner',
        { primary: 'rating', direction: 'increase' },
        { status, revision },
        EVENT_TYPES.experimentStatusChanged,
      );

    await fixture.analytics.produce([statusChange('paused', 2)]);
    await expectEventually(
      async () =>
        expect((await results('paused-winner')).decision).toMatchObject({
          verdict: 'winner',
          publishedVerdict: null,
          eventId: null,
        }),
      { timeoutMs: 30_000 },
    );
    // Several more evaluation rounds (every 500 ms) while paused publish nothing.
    const pausedAt = Date.now();
    await expectEventually(
      async () =>
        expect(Date.parse((await results('same-variant')).decision!.evaluatedAt)).toBeGreaterThan(
          pausedAt + 2_000,
        ),
      { timeoutMs: 30_000 },
    );
    expect(decisionsOf('paused-winner')).toHaveLength(1);

    await fixture.analytics.produce([statusChange('running', 3)]);
    await expectEventually(() => expect(decisionsOf('paused-winner')).toHaveLength(2), {
      timeoutMs: 30_000,
    });
    const again = decisionsOf('paused-winner')[1];
    expect(again.id).toBe(first.id);
    expect(again.data).toMatchObject({ verdict: 'winner', previousVerdict: null, winner: { arm: 'B' } });
    expect((await results('paused-winner')).decision).toMatchObject({
      publishedVerdict: 'winner',
      eventId: first.id,
    });
  });
});
