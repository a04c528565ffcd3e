/**
 * Retention of parked feedback against real Kafka and the MongoDB-wire server: feedback whose
 * generation has not arrived is deleted and forgotten once its `receivedAt` is older than
 * ANALYTICS_PARKED_RETENTION_HOURS, counted in /metrics, and a generation arriving afterwards does
 * not apply it; feedback within the horizon stays listed and is applied by its generation.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { experimentEvent, feedbackEvent, generationEvent } from './support/scenario';

const RETENTION_HOURS = 168;
/** How long the older feedback stays within the horizon once produced: enough to consume and list it. */
const EXPIRES_IN_MS = 45_000;

/** The value of series `name` in a /metrics text (with labels starting with `labels`), or null. */
function metric(text: string, name: string, labels = ''): number | null {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const series = labels ? `${escape(name)}\\{${escape(labels)}[^}]*\\}` : `${escape(name)}(\\{[^}]*\\})?`;
  const m = new RegExp(`^${series} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[m.length - 1]) : null;
}

describe('parked feedback retention (real Kafka + MongoDB)', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra(), {
      env: {
        ANALYTICS_PARKED_RETENTION_HOURS: String(RETENTION_HOURS),
        ANALYTICS_PARKED_SWEEP_INTERVAL_MS: '1000',
      },
    });
  });

  afterAll(() => analytics?.close());

  const listed = async () =>
    (
      (await analytics.inject('/v1/feedback/unattributed')).body as { items: Array<{ feedbackId: string }> }
    ).items
      .map((i) => i.feedbackId)
      .sort();
  const metrics = async () => (await analytics.inject('/metrics')).text;

  it('purges parked feedback past the horizon, counts it, and a later generation does not apply it', async () => {
    const exp = 'retention-exp';
    const at = new Date(Date.now() - 60_000);
    // Received just inside the horizon: it crosses it while the service holds it parked in memory.
    const expiresAt = Date.now() + EXPIRES_IN_MS;
    const oldReceivedAt = new Date(expiresAt - RETENTION_HOURS * 3_600_000);
    await analytics.produce([
      experimentEvent(
        exp,
        [
          { name: 'c', weight: 1 },
          { name: 't', weight: 1 },
        ],
        'c',
      ),
      feedbackEvent({
        feedbackId: 'ret-old',
        requestId: 'ret-r-old',
        rating: 1,
        revision: 1,
        edit: null,
        at,
        receivedAt: oldReceivedAt,
      }),
      feedbackEvent({
        feedbackId: 'ret-fresh',
        requestId: 'ret-r-fresh',
        rating: 5,
        revision: 1,
        edit: null,
        at,
      }),
    ]);
    await analytics.settle();
    // Both parked and listed while within the horizon.
    expect(await listed()).toEqual(['ret-fresh', 'ret-old']);
    expect(Date.now()).toBeLessThan(expiresAt);
    expect(metric(await metrics(), 'llmops_analytics_events_total', 'type="feedback",outcome="parked"')).toBe(
      2,
    );

    // Past the horizon: deleted (gone from the list), counted, and the partition holds the fresh one only.
    await expectEventually(
      async () => {
        expect(await listed()).toEqual(['ret-fresh']);
        const text = await metrics();
        expect(metric(text, 'llmops_analytics_parked_feedback_purged_total')).toBe(1);
        expect(metric(text, 'llmops_analytics_parked_feedback_held')).toBe(1);
        expect(metric(text, 'llmops_analytics_feedback_unattributed')).toBe(1);
      },
      { timeoutMs: EXPIRES_IN_MS + 60_000, intervalMs: 500 },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);

    // The purged feedback's generation: counted as a generation, its feedback not applied (the
    // partition state that parked it is still cached, so this also proves it was forgotten there).
    await analytics.produce([generationEvent('ret-r-old', exp, 't', at, 10, 0, [1, 1])]);
    await analytics.settle();
    let res = (await analytics.inject(`/v1/experiments/${exp}/results`)).body as ExperimentResults;
    expect(res.arms.find((a) => a.arm === 't')).toMatchObject({ generations: 1, rating: { n: 0 } });
    expect(
      metric(await metrics(), 'llmops_analytics_events_total', 'type="feedback",outcome="resolved"'),
    ).toBeNull();

    // The fresh feedback's generation applies it, in the same partition state.
    await analytics.produce([generationEvent('ret-r-fresh', exp, 't', at, 10, 0, [1, 1])]);
    await analytics.settle();
    res = (await analytics.inject(`/v1/experiments/${exp}/results`)).body as ExperimentResults;
    expect(res.arms.find((a) => a.arm === 't')).toMatchObject({ generations: 2, rating: { n: 1, mean: 5 } });
    expect(
      metric(await metrics(), 'llmops_analytics_events_total', 'type="feedback",outcome="resolved"'),
    ).toBe(1);
    expect(await listed()).toEqual([]);
    const text = await metrics();
    expect(metric(text, 'llmops_analytics_parked_feedback_purged_total')).toBe(1);
    // Both generations' requests are held (within ANALYTICS_REQUEST_RETENTION_HOURS), none forgotten.
    expect(metric(text, 'llmops_analytics_requests_held')).toBe(2);
    expect(metric(text, 'llmops_analytics_requests_forgotten_total')).toBe(0);
  });
});
