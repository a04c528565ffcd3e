/**
 * Bounded cardinality at the maximum: 3 experiments x 20 arms (the assignment limit) x 50 score
 * names (the per-experiment limit), plus 30 more names per experiment beyond the limit. Checks the
 * policy for names beyond the limit (dropped, counted, listed), the size of the results body, the
 * series bound of /metrics and the time of a scrape, and that a replay into an empty database
 * keeps exactly the same names.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { inject, startApp, type TestApp } from './support/app';
import {
  experimentEvent,
  exposureEvent,
  feedbackEvent,
  generationEvent,
  type Produced,
  rng,
} from './support/scenario';

const EXPERIMENTS = ['card-a', 'card-b', 'card-c'];
const ARMS = Array.from({ length: 20 }, (_, i) => `arm-${String(i).padStart(2, '0')}`);
const names = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`);
const TRACKED = names('s', 0, 50);
const BEYOND = names('x', 0, 30);
/** Series of the experiment gauges on /metrics (not the service's own metrics). */
const EXPERIMENT_SERIES = /^llmops_experiment_[a-z0-9_]+\{/;

/** A sample line of `name` whose labels match `labels` and whose value matches `value` (patterns). */
const gauge = (name: string, labels: string, value: string): RegExp =>
  new RegExp(`^${name}\\{${labels}\\} ${value}$`, 'm');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('bounded cardinality of names (real Kafka + MongoDB)', () => {
  const infra = testInfra();
  let analytics: AnalyticsFixture;
  let replay: TestApp | undefined;

  beforeAll(async () => {
    // The default refresh period: what a production scrape competes with.
    // The largest results read scans every bucket of the experiment; the shared FerretDB on a loaded
    // test machine can take longer than the production deadline for it (database-deadline.int-spec
    // tests the deadline itself on a database of its own).
    analytics = await AnalyticsFixture.start(infra, {
      env: { ANALYTICS_METRICS_REFRESH_MS: '5000', MONGODB_OPERATION_TIMEOUT_MS: '20000' },
    });
  });

  afterAll(async () => {
    await analytics?.close();
    await replay?.close();
  });

  const settle = (group: string) => analytics.settle({ group, timeoutMs: 90_000 });

  async function results(target: TestApp, exp: string): Promise<{ body: ExperimentResults; bytes: number }> {
    const res = await inject(target, `/v1/experiments/${exp}/results?window=all`);
    expect(res.status).toBe(200);
    return { body: res.body as ExperimentResults, bytes: Buffer.byteLength(res.text) };
  }

  it('at the maximum: names beyond the limit are dropped and reported, results < 1 MB, scrape < 50 ms', async () => {
    const random = rng(7);
    const at = new Date(Date.now() - 10 * 60_000);
    const setup: Produced[] = [];
    const tracked: Produced[] = [];
    const beyond: Produced[] = [];
    for (const exp of EXPERIMENTS) {
      setup.push(
        experimentEvent(
          exp,
          ARMS.map((name) => ({ name, weight: 1 })),
        ),
      );
      for (const arm of ARMS) {
        for (const u of [0, 1]) setup.push(exposureEvent(exp, arm, `${arm}-u${u}`, at));
        setup.push(generationEvent(`${exp}-${arm}-g`, exp, arm, at, 100 + 900 * random(), 0.001, [10, 20]));
        // Two requests per arm, each judged on all 50 names in three items of at most 20 scores.
        for (let r = 0; r < 2; r++) {
          for (const [from, to] of [
            [0, 20],
            [20, 40],
            [40, 50],
          ]) {
            const requestId = `${exp}-${arm}-r${r}`;
            tracked.push(
              feedbackEvent({
                feedbackId: `${requestId}-${from}`,
                requestId,
                experiment: exp,
                arm,
                scores: Object.fromEntries(TRACKED.slice(from, to).map((n) => [n, random()])),
                revision: 1,
                edit: null,
                at,
              }),
            );
          }
        }
      }
      // Later, 30 new names: every partition already tracks 50 names of this experiment.
      BEYOND.forEach((name, i) =>
        beyond.push(
          feedbackEvent({
            feedbackId: `${exp}-late-${i}`,
            requestId: `${exp}-late-${i}`,
            experiment: exp,
            arm: ARMS[i % ARMS.length],
            scores: { [name]: 1 },
            revision: 1,
            edit: null,
            at,
          }),
        ),
      );
    }
    await analytics.produce(setup);
    await analytics.produce(tracked);
    await analytics.produce(beyond);
    await settle(analytics.groupId);

    const first = new Map<string, ExperimentResults>();
    for (const exp of EXPERIMENTS) {
      const started = performance.now();
      const { body, bytes } = await results(analytics.app, exp);
      const ms = performance.now() - started;
      process.stdout.write(`results ${exp}: ${bytes} bytes in ${ms.toFixed(0)} ms\n`);
      expect(bytes).toBeLessThan(1024 * 1024);
      expect(body.arms).toHaveLength(20);
      for (const arm of body.arms) {
        expect(Object.keys(arm.scores).sort()).toEqual(TRACKED);
        expect(arm.scores.s00.n).toBe(2);
      }
      expect(body.comparisons).toHaveLength(19 * (2 + 50));
      expect(body.scoreNames).toEqual({ limit: 50, droppedValues: 30, droppedNames: BEYOND.slice(0, 20) });
      first.set(exp, body);
    }

    // /metrics: every experiment's dropped values are visible, the series stay within the budget.
    let text = '';
    await expectEventually(
      async () => {
        text = (await analytics.inject('/metrics')).text;
        for (const exp of EXPERIMENTS)
          expect(text).toMatch(
            gauge('llmops_experiment_score_values_dropped', `experiment="${exp}"[^}]*`, '30'),
          );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const series = text.split('\n').filter((l) => EXPERIMENT_SERIES.test(l));
    expect(series.length).toBeLessThanOrEqual(1_000);
    expect(text).toMatch(gauge('llmops_analytics_metrics_series', '[^}]*', String(series.length)));
    expect(text).toMatch(gauge('llmops_analytics_metrics_series_omitted', '[^}]*', '[1-9]\\d*'));
    for (const exp of EXPERIMENTS)
      expect(
        series.filter((l) => l.startsWith(`llmops_experiment_exposed_users{experiment="${exp}"`)),
      ).toHaveLength(20);

    for (let i = 0; i < 5; i++) await analytics.inject('/metrics'); // warm-up
    const timings: number[] = [];
    for (let i = 0; i < 21; i++) {
      const started = performance.now();
      const res = await analytics.inject('/metrics');
      timings.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    process.stdout.write(
      `/metrics: ${series.length} experiment series, ${text.length} bytes; scrape median ${median(timings).toFixed(1)} ms, max ${Math.max(...timings).toFixed(1)} ms\n`,
    );
    expect(median(timings)).toBeLessThan(50);

    // A replay of the same topics into an empty database keeps exactly the same names.
    const replayGroup = `${analytics.groupId}-replay`;
    replay = await startApp(infra, replayGroup, {
      MONGODB_DB: `${infra.dbName}r`,
      ANALYTICS_METRICS_REFRESH_MS: '5000',
      MONGODB_OPERATION_TIMEOUT_MS: '20000',
    });
    await settle(replayGroup);
    for (const exp of EXPERIMENTS) {
      const { body } = await results(replay, exp);
      const before = first.get(exp)!;
      expect(body.scoreNames).toEqual(before.scoreNames);
      expect(body.arms.map((a) => a.scores)).toEqual(before.arms.map((a) => a.scores));
    }
  });
});
