/**
 * The MLflow export against a real MLflow tracking server (the one the jest global setup starts
 * from .ci/run's .local/mlflow-venv, or MLFLOW_TRACKING_URI): the demo's story played over the
 * services' APIs, exported on request, stopped (exported again automatically) and exported once
 * more; the runs read back through MLflow's REST API: one MLflow experiment, a parent decision run
 * and one run per arm with the results' numbers and its prompt version's model and sampling params,
 * never duplicated.
 * Without MLflow this file is skipped (it says so); in CI (CI=true) its absence is a failure.
 */
import { call, type PlatformUrls, runScenario, sameKey, type ScenarioResult } from '@llmops/demo';
import { waitForMlflow } from '@llmops/local-infra';
import { expectEventually, testInfra } from '@llmops/testing';
import { type RunningPlatform, startAllServices } from '../support/service-process';

const trackingUri = process.env.MLFLOW_TRACKING_URI;
const withMlflow = trackingUri ? describe : describe.skip;
if (!trackingUri && process.env.CI !== 'true') {
  console.warn(
    'MLflow not installed (.local/mlflow-venv or mlflow on the PATH) and MLFLOW_TRACKING_URI unset: skipping the MLflow export test. ' +
      'Install it as .ci/run does: python3 -m venv .local/mlflow-venv && .local/mlflow-venv/bin/pip install mlflow==3.17.2',
  );
}

interface MlflowRun {
  info: { run_id: string; run_name: string; status: string };
  data: {
    metrics?: Array<{ key: string; value: number }>;
    params?: Array<{ key: string; value: string }>;
    tags?: Array<{ key: string; value: string }>;
  };
}

interface ExportAnswer {
  experiment: string;
  phase: number;
  mlflowExperimentId: string;
  mlflowExperimentName: string;
  verdict: string;
  parentRunId: string;
  runs: Array<{ arm: string; runId: string }>;
  created: number;
}

interface Results {
  control: string;
  arms: Array<{
    arm: string;
    exposures: number;
    rating: { n: number; mean: number | null; ci95: [number, number] | null };
    thumbs: { rate: number | null };
    latencyMs: { p50: number | null; p95: number | null };
    costPerRequestUsd: number | null;
  }>;
  comparisons: Array<{
    arm: string;
    metric: string;
    pValue: number | null;
    sequential: { pValue: number | null };
  }>;
  decision: { verdict: string; alpha: number; primary: Array<{ arm: string; metric: string }> } | null;
}

const VERDICTS = ['continue', 'winner', 'no-difference', 'guardrail-breach'];

async function mlflow<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${trackingUri}/api/2.0/mlflow/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`MLflow ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const kv = (list: Array<{ key: string; value: string }> | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((x) => [x.key, x.value]));
const metricsOf = (run: MlflowRun): Record<string, number> =>
  Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value]));

it('has MLflow available in CI', () => {
  if (process.env.CI === 'true') expect(trackingUri).toBeDefined();
});

withMlflow('MLflow export against a real MLflow server', () => {
  const infra = testInfra();
  const USERS = 400;
  let platform: RunningPlatform;
  let urls: PlatformUrls;
  let key: string;
  let scenario: ScenarioResult;
  let results: Results;
  let first: ExportAnswer;

  const exportNow = () =>
    call<ExportAnswer>('POST', `${urls.analytics}/v1/experiments/${scenario.experiment}/export/mlflow`, {
      key,
      body: {},
      timeoutMs: 120_000,
    });
  const experimentId = async (): Promise<string> =>
    (
      await mlflow<{ experiment: { experiment_id: string } }>(
        'GET',
        `experiments/get-by-name?experiment_name=${encodeURIComponent(`default/${scenario.experiment}`)}`,
      )
    ).experiment.experiment_id;
  const allRuns = async (): Promise<MlflowRun[]> =>
    (
      (await mlflow<{ runs?: MlflowRun[] }>('POST', 'runs/search', {
        experiment_ids: [await experimentId()],
        max_results: 1000,
      })) ?? {}
    ).runs ?? [];

  beforeAll(async () => {
    // The global setup only spawns the server: it boots in tens of seconds (minutes on a busy CI).
    await waitForMlflow(trackingUri!, 300_000);
    platform = await startAllServices(infra, {
      analytics: {
        MLFLOW_TRACKING_URI: trackingUri!,
        ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS: '500',
        ANALYTICS_DECISION_INTERVAL_MS: '500',
      },
    });
    key = platform.admin.key;
    urls = {
      registry: platform.url('registry'),
      assignment: platform.url('assignment'),
      feedback: platform.url('feedback'),
      analytics: platform.url('analytics'),
    };
  }, 420_000);

  afterAll(async () => {
    await platform?.stop('SIGTERM');
  });

  it('plays the demo story and exports it: one MLflow experiment, a parent run and one run per arm', async () => {
    scenario = await runScenario(urls, {
      keys: sameKey(key),
      users: USERS,
      seed: 11,
      experiment: `mlflow-${infra.id}`,
      promptName: 'summarizer',
    });
    // A decision policy, so the parent run holds a verdict (strict alpha, loose guardrail: no auto action).
    await call('PATCH', `${urls.assignment}/v1/experiments/${scenario.experiment}`, {
      key,
      body: {
        decision: {
          primary: 'rating',
          direction: 'increase',
          alpha: 0.01,
          guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.5 }],
        },
      },
    });
    const ratings = scenario.truth.A.ratings.length + scenario.truth.B.ratings.length;
    results = await expectEventually(
      async () => {
        const r = await call<Results>(
          'GET',
          `${urls.analytics}/v1/experiments/${scenario.experiment}/results?window=all`,
          { key },
        );
        expect(r.arms.reduce((n, a) => n + a.rating.n, 0)).toBe(ratings);
        expect(r.decision).not.toBeNull();
        return r;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );

    first = await exportNow();
    expect(first).toMatchObject({
      experiment: scenario.experiment,
      phase: 1,
      mlflowExperimentName: `default/${scenario.experiment}`,
      created: 3,
    });
    expect(first.runs.map((r) => r.arm).sort()).toEqual(['A', 'B']);

    const runs = await allRuns();
    expect(runs).toHaveLength(3);
    const parent = runs.find((r) => r.info.run_id === first.parentRunId)!;
    expect(VERDICTS).toContain(first.verdict);
    expect(kv(parent.data.tags)).toMatchObject({
      'llmops.role': 'decision',
      'llmops.project': 'default',
      'llmops.experiment': scenario.experiment,
      'llmops.phase': '1',
      'llmops.verdict': first.verdict,
      'llmops.decision.primary': 'rating',
      'llmops.decision.alpha': '0.01',
    });
    expect(metricsOf(parent)).toMatchObject({ srm_mismatch: 0 });
    expect(kv(parent.data.params)).toEqual({ control: 'A', arms: 'A,B' });
    for (const arm of ['A', 'B']) {
      const run = runs.find((r) => r.info.run_id === first.runs.find((x) => x.arm === arm)!.runId)!;
      const tags = kv(run.data.tags);
      expect(tags).toMatchObject({
        'llmops.role': 'arm',
        'llmops.arm': arm,
        'llmops.project': 'default',
        'llmops.verdict': first.verdict,
        'mlflow.parentRunId': first.parentRunId,
      });
      expect(kv(run.data.params)).toMatchObject({
        arm,
        control: String(arm === 'A'),
        weight: '0.5',
      });
      const r = results.arms.find((x) => x.arm === arm)!;
      const m = metricsOf(run);
      expect(m.n).toBe(r.rating.n);
      expect(m.exposures).toBe(r.exposures);
      expect(m.rating_mean).toBeCloseTo(r.rating.mean!, 9);
      expect(m.rating_ci95_low).toBeCloseTo(r.rating.ci95![0], 9);
      expect(m.rating_ci95_high).toBeCloseTo(r.rating.ci95![1], 9);
      expect(m.thumbs_rate).toBeCloseTo(r.thumbs.rate!, 9);
      expect(m.latency_p50_ms).toBeCloseTo(r.latencyMs.p50!, 6);
      expect(m.latency_p95_ms).toBeCloseTo(r.latencyMs.p95!, 6);
      expect(m.cost_per_request_usd).toBeCloseTo(r.costPerRequestUsd!, 12);
      if (arm === 'B') {
        const rating = results.comparisons.find((c) => c.arm === 'B' && c.metric === 'rating')!;
        expect(m.rating_p_value).toBeCloseTo(rating.pValue!, 12);
        expect(m.rating_sequential_p_value).toBeCloseTo(rating.sequential.pValue!, 12);
        // The decision's always-valid p-value; with one treatment arm Holm changes nothing.
        expect(m.decision_p_value).toBeGreaterThanOrEqual(0);
        expect(m.decision_p_value).toBeLessThanOrEqual(1);
        expect(m.decision_adjusted_p_value).toBeCloseTo(m.decision_p_value, 12);
        expect(m['guardrail.latencyMs maxRelativeIncrease_0.5_breached']).toBe(0);
      } else {
        expect(m.rating_p_value).toBeUndefined();
        expect(m.decision_p_value).toBeUndefined();
      }
    }
  }, 300_000);

  it('exports again when the experiment stops, and on request, into the same runs: no duplicates', async () => {
    // A `winner` verdict would have stopped it already; stopping again is a no-op.
    await call('POST', `${urls.assignment}/v1/experiments/${scenario.experiment}/stop`, { key, body: {} });
    // The automatic export of the stopped experiment finishes the runs and tags them `stopped`.
    await expectEventually(
      async () => {
        const runs = await allRuns();
        expect(runs.map((r) => [r.info.status, kv(r.data.tags)['llmops.status']])).toEqual([
          ['FINISHED', 'stopped'],
          ['FINISHED', 'stopped'],
          ['FINISHED', 'stopped'],
        ]);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    const second = await exportNow();
    expect(second).toMatchObject({
      mlflowExperimentId: first.mlflowExperimentId,
      parentRunId: first.parentRunId,
      created: 0,
    });
    expect(second.runs).toEqual(first.runs);

    const runs = await allRuns();
    expect(runs.map((r) => r.info.run_id).sort()).toEqual(
      [first.parentRunId, ...first.runs.map((r) => r.runId)].sort(),
    );
    // Each arm run holds the model and sampling params the demo registered for its prompt version,
    // as analytics learnt them from the registry's version events.
    for (const arm of ['A', 'B'] as const) {
      const hash = scenario.hashes[arm];
      const registered = await call<{ spec: { model: string; params: Record<string, unknown> } }>(
        'GET',
        `${urls.registry}/v1/prompts/summarizer/versions/${hash}`,
        { key },
      );
      const run = runs.find((r) => r.info.run_id === first.runs.find((x) => x.arm === arm)!.runId)!;
      expect(kv(run.data.params)).toMatchObject({
        'prompt.name': 'summarizer',
        'prompt.hash': hash,
        model: registered.spec.model,
        'params.temperature': String(registered.spec.params.temperature),
        'params.max_tokens': String(registered.spec.params.max_tokens),
      });
      expect(kv(run.data.tags)['llmops.prompt.settings']).toBe('known');
    }
    // One MLflow experiment of that name, holding just these runs.
    const named = await mlflow<{ experiments?: Array<{ name: string }> }>('POST', 'experiments/search', {
      filter: `name = 'default/${scenario.experiment}'`,
      max_results: 10,
    });
    expect(named.experiments?.map((e) => e.name)).toEqual([`default/${scenario.experiment}`]);
  }, 180_000);
});
