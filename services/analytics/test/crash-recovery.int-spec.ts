/**
 * Crash recovery: the service runs as a child process and is SIGKILLed 3 times at random points
 * while a stream of mixed events flows. When the group's lag is 0, every aggregate equals the
 * ground truth computed from the produced events.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import { AnalyticsFixture } from './support/analytics-fixture';
import { diffArm, mixedScenario, rng } from './support/scenario';
import { getJson, killHard, type ServiceProcess, startService } from './support/service-process';

const EVENTS = Number(process.env.ANALYTICS_CRASH_EVENTS ?? 50_000);

describe('analytics crash recovery (SIGKILL x3)', () => {
  const infra = testInfra();
  let analytics: AnalyticsFixture;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(infra, { env: null });
  });

  afterAll(async () => {
    if (service) await killHard(service);
    await analytics?.close();
  });

  it(`${EVENTS} mixed events, 3 kills: aggregates equal ground truth`, async () => {
    const exp = 'crash-exp';
    const scenario = mixedScenario(exp, EVENTS, 7);
    const r = rng(99);
    const chunks = 20;
    const size = Math.ceil(scenario.events.length / chunks);
    const killAt = new Set<number>();
    while (killAt.size < 3) killAt.add(2 + Math.floor(r() * (chunks - 4)));
    const started = Date.now();
    const env = {
      KAFKA_BROKERS: infra.kafkaBrokers,
      MONGODB_URI: infra.mongoBaseUri,
      MONGODB_DB: infra.dbName,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      ANALYTICS_CONSUMER_GROUP: analytics.groupId,
    };
    service = await startService(env);
    for (let i = 0; i < chunks; i++) {
      await analytics.produce(scenario.events.slice(i * size, (i + 1) * size));
      if (killAt.has(i)) {
        // Let the consumer get into the middle of its work, then kill it without warning.
        await new Promise((res) => setTimeout(res, 500 + Math.floor(r() * 2_500)));
        await killHard(service);
        service = await startService(env);
      }
    }
    await analytics.settle({ timeoutMs: 240_000, intervalMs: 1_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `[crash-recovery] ${scenario.events.length} events, 3 kills, lag 0 after ${seconds.toFixed(1)} s`,
    );
    const { port, headers } = service;
    const res = await expectEventually(
      async () => {
        const r = await getJson(port, `/v1/experiments/${exp}/results?window=all`, headers);
        expect(r.status).toBe(200);
        return r.body as { arms: Array<Record<string, unknown> & { arm: string }> };
      },
      { timeoutMs: 30_000 },
    );
    const mismatches = res.arms.flatMap((a) => diffArm(a.arm, a, scenario.truth.get(a.arm)!));
    expect(mismatches).toEqual([]);
  }, 400_000);
});
