/**
 * `window=all` after a phase change (real Kafka + MongoDB): it starts at the minute bucket that
 * holds the phase start, so events of the phase's first (partial) minute are counted, and events of
 * earlier minutes are not.
 */
import { createEvent, EVENT_TYPES, serializeEvent } from '@llmops/contracts';
import { expectEventually, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { experimentEvent, feedbackEvent, type Produced } from './support/scenario';

const ARMS = [
  { name: 'A', weight: 1 },
  { name: 'B', weight: 1 },
];

/** The experiment entering `phase` at `changedAt` (a new phase of a running experiment). */
function phaseChange(key: string, phase: number, revision: number, changedAt: Date): Produced {
  const t = '2024-01-01T00:00:00.000Z';
  const ev = createEvent(
    EVENT_TYPES.experimentUpdated,
    {
      experiment: {
        key,
        description: 'test',
        status: 'running',
        phase,
        seed: `${key}:s${phase}`,
        hashVersion: 1,
        trafficAllocation: 1,
        control: 'A',
        arms: ARMS.map((a) => ({ ...a, prompt: { name: 'p', ref: 'production', hash: 'a'.repeat(64) } })),
        revision,
        createdAt: t,
        updatedAt: changedAt.toISOString(),
      },
      changedAt: changedAt.toISOString(),
      changes: ['phase'],
    },
    { source: '/llmops/test' },
  );
  return { topic: 'e', key, value: serializeEvent(ev) };
}

const rating = (exp: string, id: string, value: number, at: Date): Produced =>
  feedbackEvent({
    feedbackId: `${exp}-${id}`,
    requestId: `${exp}-${id}-req`,
    experiment: exp,
    arm: 'A',
    rating: value,
    revision: 1,
    edit: null,
    at,
  });

describe('window=all at a phase boundary (real Kafka + MongoDB)', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra(), { partitions: 2 });
  });

  afterAll(() => analytics?.close());

  const results = async (exp: string, window: string): Promise<ExperimentResults> => {
    const res = await analytics.inject(`/v1/experiments/${exp}/results?window=${window}`);
    expect(res.status).toBe(200);
    return res.body as ExperimentResults;
  };
  const ratingsOf = (r: ExperimentResults) => r.arms.find((a) => a.arm === 'A')?.rating.n ?? 0;

  /** Creates the experiment in phase 1, then moves it to phase 2 at `phaseStart`. */
  async function enterPhase2(exp: string, phaseStart: Date): Promise<void> {
    await analytics.produce([experimentEvent(exp, ARMS, 'A')]);
    // The phase start is known only when the analytics service saw the phase change, so the
    // change must arrive after the experiment's first snapshot was applied.
    await expectEventually(async () =>
      expect((await analytics.inject(`/v1/experiments/${exp}/results`)).status).toBe(200),
    );
    await analytics.produce([phaseChange(exp, 2, 2, phaseStart)]);
    await expectEventually(async () =>
      expect((await results(exp, 'all')).window.from).toBe(phaseStart.toISOString()),
    );
  }

  const settle = () => analytics.settle({ intervalMs: 200 });

  it('a phase starting mid-minute: its first partial minute counts, the minute before does not', async () => {
    const exp = 'phase-mid';
    const minute = Math.floor(Date.now() / 60_000) - 10;
    const phaseStart = new Date(minute * 60_000 + 30_000);
    await enterPhase2(exp, phaseStart);
    await analytics.produce([
      rating(exp, 'at-start', 5, phaseStart),
      rating(exp, 'same-minute-after', 4, new Date(phaseStart.getTime() + 29_999)),
      // Minute buckets cannot split a minute: the phase's first minute is counted whole.
      rating(exp, 'same-minute-before', 3, new Date(phaseStart.getTime() - 10_000)),
      rating(exp, 'minute-before', 1, new Date(phaseStart.getTime() - 30_001)),
      rating(exp, 'later', 2, new Date(phaseStart.getTime() + 5 * 60_000)),
    ]);
    await settle();
    await expectEventually(async () => expect(ratingsOf(await results(exp, '24h'))).toBe(5));
    const all = await results(exp, 'all');
    expect(ratingsOf(all)).toBe(4);
    expect(all.arms.find((a) => a.arm === 'A')?.rating.mean).toBeCloseTo((5 + 4 + 3 + 2) / 4, 12);
  });

  it('a phase starting exactly on a minute: an event at the start counts, one 1 ms before does not', async () => {
    const exp = 'phase-aligned';
    const phaseStart = new Date((Math.floor(Date.now() / 60_000) - 20) * 60_000);
    await enterPhase2(exp, phaseStart);
    await analytics.produce([
      rating(exp, 'at-start', 5, phaseStart),
      rating(exp, 'just-before', 1, new Date(phaseStart.getTime() - 1)),
    ]);
    await settle();
    await expectEventually(async () => expect(ratingsOf(await results(exp, '24h'))).toBe(2));
    const all = await results(exp, 'all');
    expect(ratingsOf(all)).toBe(1);
    expect(all.arms.find((a) => a.arm === 'A')?.rating.mean).toBe(5);
  });

  it('every rating of a phase younger than a minute is in `all`, as in `24h`', async () => {
    const exp = 'phase-fresh';
    const phaseStart = new Date(Date.now() - 1_000);
    await enterPhase2(exp, phaseStart);
    const at = new Date(Math.max(phaseStart.getTime(), Date.now() - 500));
    await analytics.produce(Array.from({ length: 200 }, (_, i) => rating(exp, `r${i}`, 1 + (i % 5), at)));
    await settle();
    await expectEventually(async () => expect(ratingsOf(await results(exp, '24h'))).toBe(200));
    expect(ratingsOf(await results(exp, 'all'))).toBe(200);
  });
});
