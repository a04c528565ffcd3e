/**
 * Replay: resetting the group to the earliest offset leaves every aggregate unchanged; 10% of the
 * feedback re-sent with the same ids changes nothing; edits replace the earlier values.
 */
import { testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { diffArm, feedbackEvent, mixedScenario, topicsFor } from './support/scenario';

describe('analytics replay and duplicate feedback', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra(), { env: null });
  });

  afterAll(() => analytics?.close());

  const settle = () => analytics.settle({ timeoutMs: 90_000, intervalMs: 500 });
  const results = async (exp: string) => {
    const r = await analytics.inject(`/v1/experiments/${exp}/results?window=all`);
    expect(r.status).toBe(200);
    return r.body as ExperimentResults;
  };

  it('group reset to earliest, re-sent feedback and edits', async () => {
    const exp = 'replay-exp';
    const scenario = mixedScenario(exp, 6_000, 11);
    await analytics.startApp();
    await analytics.produce(scenario.events);
    await settle();
    const before = await results(exp);
    expect(before.arms.flatMap((a) => diffArm(a.arm, a, scenario.truth.get(a.arm)!))).toEqual([]);

    // 1) Reset the group to the earliest offset: everything is consumed again.
    await analytics.stopApp();
    const admin = analytics.kafka.admin();
    await admin.connect();
    for (const topic of Object.values(topicsFor(analytics.infra.topicPrefix))) {
      await admin.resetOffsets({ groupId: analytics.groupId, topic, earliest: true });
    }
    await admin.disconnect();
    expect(await analytics.lag()).toBeGreaterThan(5_000);
    await analytics.startApp();
    await settle();
    const replayed = await results(exp);
    expect(replayed.arms).toEqual(before.arms);

    // 2) 10% of the feedback re-sent with the same ids (same revision): nothing changes.
    const resend = scenario.feedbackFirsts.filter((_, i) => i % 10 === 0);
    expect(resend.length).toBeGreaterThan(100);
    await analytics.produce(resend);
    await settle();
    expect((await results(exp)).arms).toEqual(before.arms);

    // 3) Edits replace: revision 9 of 20 feedbacks sets the rating to 5 (count stays, sum moves).
    const edited = scenario.feedbackFirsts.slice(0, 20).map(
      (e) =>
        JSON.parse(e.value) as {
          data: { feedbackId: string; requestId: string; experiment?: string; arm?: string };
        },
    );
    const byArm = new Map<string, { delta: number; added: number }>();
    const truthRatings = new Map<string, number>();
    // The final rating each edited feedback had, from the scenario's own events (last revision wins).
    for (const e of scenario.events.filter((x) => x.topic === 'f')) {
      const d = (JSON.parse(e.value) as { data: { feedbackId: string; revision: number; rating?: number } })
        .data;
      truthRatings.set(`${d.feedbackId}|${d.revision}`, d.rating ?? NaN);
    }
    const finalOf = (fid: string) =>
      truthRatings.has(`${fid}|2`) ? truthRatings.get(`${fid}|2`)! : truthRatings.get(`${fid}|1`)!;
    const requestArm = new Map<string, string>();
    for (const e of scenario.events.filter((x) => x.topic === 'g')) {
      const d = (JSON.parse(e.value) as { data: { requestId: string; arm: string } }).data;
      requestArm.set(d.requestId, d.arm);
    }
    for (const { data } of edited) {
      const arm = requestArm.get(data.requestId)!;
      const old = finalOf(data.feedbackId);
      const acc = byArm.get(arm) ?? { delta: 0, added: 0 };
      if (Number.isNaN(old)) acc.added += 1;
      else acc.delta += 5 - old;
      byArm.set(arm, acc);
    }
    await analytics.produce(
      edited.map(({ data }) =>
        feedbackEvent({
          feedbackId: data.feedbackId,
          requestId: data.requestId,
          ...(data.experiment ? { experiment: data.experiment, arm: data.arm } : {}),
          rating: 5,
          revision: 9,
          edit: { previousRevision: 2 },
          at: new Date(),
        }),
      ),
    );
    await settle();
    const after = await results(exp);
    for (const a of after.arms) {
      const b = before.arms.find((x) => x.arm === a.arm)!;
      const change = byArm.get(a.arm) ?? { delta: 0, added: 0 };
      expect(a.rating.n).toBe(b.rating.n + change.added);
      const sumBefore = b.rating.mean! * b.rating.n;
      expect(a.rating.mean! * a.rating.n).toBeCloseTo(sumBefore + change.delta + 5 * change.added, 6);
      expect(a.exposures).toBe(b.exposures);
      expect(a.generations).toBe(b.generations);
    }
  }, 240_000);
});
