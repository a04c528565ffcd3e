/**
 * Scale-out: two instances share the consumer group (partitions split by the co-partition
 * assigner); one is SIGKILLed mid-stream. The survivor takes its partitions over and the totals
 * are still exact.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import { AnalyticsFixture } from './support/analytics-fixture';
import { inject, serviceEnv, startApp, type TestApp } from './support/app';
import { diffArm, mixedScenario } from './support/scenario';
import { killHard } from './support/service-process';

describe('analytics scale-out (two instances, one killed)', () => {
  const infra = testInfra();
  let analytics: AnalyticsFixture;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(infra, { env: null });
  });

  afterAll(async () => {
    for (const a of apps) await killHard(a.process);
    await analytics?.close();
  });

  it('totals are exact after one of two instances dies mid-stream', async () => {
    const { groupId } = analytics;
    expect(serviceEnv(infra, groupId).ANALYTICS_CONSUMER_GROUP).toBe(groupId);
    const exp = 'scale-exp';
    const scenario = mixedScenario(exp, 16_000, 23);
    apps.push(await startApp(infra, groupId), await startApp(infra, groupId));
    const half = Math.floor(scenario.events.length / 2);
    await analytics.produce(scenario.events.slice(0, half));
    // Both members must have been working: each has consumed something before the kill.
    await expectEventually(
      async () => {
        for (const a of apps) {
          expect((await inject(a, '/metrics')).text).toMatch(
            /llmops_consumer_messages_total\{[^}]*outcome="ok"[^}]*\} [1-9]/,
          );
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await killHard(apps[0].process);
    await analytics.produce(scenario.events.slice(half));
    await analytics.settle({ timeoutMs: 120_000, intervalMs: 500 });
    const res = (await inject(apps[1], `/v1/experiments/${exp}/results`)).body as {
      arms: Array<Record<string, unknown> & { arm: string }>;
    };
    expect(res.arms.flatMap((a) => diffArm(a.arm, a, scenario.truth.get(a.arm)!))).toEqual([]);
  }, 240_000);
});
