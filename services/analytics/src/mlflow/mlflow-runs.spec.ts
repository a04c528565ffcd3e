import type { ExperimentDoc } from '../persistence/analytics.schemas';
import type { ExperimentsRepository } from '../persistence/experiments.repository';
import type { PromptSettingsRepository } from '../persistence/prompt-settings.repository';
import type { GetResultsUseCase } from '../results/get-results.usecase';
import type { ExperimentResults } from '../results/dto/results.response';
import { ExportToMlflowUseCase } from './export-to-mlflow.usecase';
import { MlflowNotConfiguredError } from './mlflow.errors';
import type { MlflowExportsRepository } from './mlflow-exports.repository';
import { promptSettings } from '../domain/prompt-settings';
import { buildExportPlan, metricKey, MLFLOW_PARAM_VALUE_MAX, promptSettingsParams } from './mlflow-runs';

const experiment: ExperimentDoc = {
  _id: 'team/summarizer',
  project: 'team',
  key: 'summarizer',
  revision: 4,
  status: 'running',
  control: 'A',
  arms: [
    { name: 'A', weight: 0.5, prompt: { name: 'summarizer', hash: 'a'.repeat(64) } },
    { name: 'B', weight: 0.5, prompt: { name: 'summarizer', hash: 'b'.repeat(64) } },
  ] as ExperimentDoc['arms'],
  phase: 2,
  phaseStartedAt: '2026-12-01T00:00:00.000Z',
  stoppedAt: null,
  updatedAt: '2026-12-01T00:00:00.000Z',
};

const mean = (n: number, m: number | null, ci: [number, number] | null) => ({
  n,
  mean: m,
  sd: m === null ? null : 1,
  ci95: ci,
  reason: null,
});

const arm = (name: string, rating: number | null, p50: number | null) => ({
  arm: name,
  exposures: 100,
  generations: 100,
  latencyMs: { p50, p95: p50 === null ? null : p50 * 1.5, p99: null },
  costPerRequestUsd: 0.0002,
  costUsd: 0.02,
  tokens: { prompt: 1000, completion: 200, total: 1200 },
  rating: mean(rating === null ? 0 : 100, rating, rating === null ? null : [rating - 0.2, rating + 0.2]),
  thumbs: { n: 100, up: 60, down: 40, rate: 0.6, ci95: [0.5, 0.69] as [number, number], reason: null },
  scores: { 'helpful ness?': mean(10, 0.8, [0.7, 0.9]) },
  corrections: 3,
  comments: 5,
});

const results = {
  experiment: 'summarizer',
  window: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' },
  control: 'A',
  arms: [arm('A', 3.5, 800), arm('B', 3.9, null)],
  comparisons: [
    {
      arm: 'B',
      metric: 'rating',
      diff: 0.4,
      relativeLift: 0.11,
      ci95: [0.2, 0.6],
      pValue: 0.001,
      test: 'welch-t',
      reason: null,
      sequential: { pValue: 0.01, ci95: [0.1, 0.7], method: 'mSPRT-normal-mixture', reason: null },
    },
    {
      arm: 'B',
      metric: 'score:helpful ness?',
      diff: null,
      relativeLift: null,
      ci95: null,
      pValue: null,
      test: 'welch-t',
      reason: 'n<2',
      sequential: { pValue: null, ci95: null, method: 'mSPRT-normal-mixture', reason: 'n<2' },
    },
  ],
  scoreNames: { limit: 50, droppedValues: 0, droppedNames: [] },
  srm: { observed: {}, expected: null, chiSquare: 0.1, pValue: 0.75, mismatch: false, reason: null },
  sampleSize: {
    metric: 'rating',
    minimumPerArm: 200,
    recommendedPerArm: 500,
    reached: false,
    recommendedReached: false,
    neededPerArm: 150,
    reason: null,
  },
} as unknown as ExperimentResults;

const decision = {
  phase: 2,
  verdict: 'winner',
  publishedVerdict: 'winner',
  eventId: 'evt-1',
  evaluatedAt: '2026-12-02T00:00:00.000Z',
  alpha: 0.05,
  winner: { arm: 'B', prompt: { name: 'summarizer', hash: 'b'.repeat(64) } },
  breaches: [],
  primary: [
    { metric: 'rating', arm: 'B', diff: 0.4, pValue: 0.004, adjustedPValue: 0.008, decided: 'better' },
  ],
  guardrails: [
    {
      guardrail: 'latencyMs maxRelativeIncrease=0.1',
      metric: 'latencyMs',
      arm: 'B',
      breachPValue: 0.6,
      adjustedBreachPValue: 0.9,
      breached: false,
    },
  ],
};

describe('MLflow export plan', () => {
  it('names the MLflow experiment <project>/<key> and tags every run with project, phase and verdict', () => {
    const plan = buildExportPlan(experiment, { ...results, decision } as unknown as ExperimentResults);
    expect(plan.experimentName).toBe('team/summarizer');
    expect(plan.phase).toBe(2);
    for (const run of [plan.parent, ...plan.arms]) {
      expect(run.tags).toMatchObject({
        'llmops.project': 'team',
        'llmops.experiment': 'summarizer',
        'llmops.phase': '2',
        'llmops.verdict': 'winner',
      });
    }
    expect(plan.parent.tags).toMatchObject({
      'llmops.role': 'decision',
      'llmops.decision.winner': 'B',
      'llmops.decision.primary': 'rating',
      'llmops.decision.alpha': '0.05',
    });
    expect(plan.arms.map((a) => [a.arm, a.tags['llmops.role'], a.tags['llmops.arm']])).toEqual([
      ['A', 'arm', 'A'],
      ['B', 'arm', 'B'],
    ]);
  });

  it('makes immutable facts params (prompt version, weight, control) and the numbers metrics', () => {
    const plan = buildExportPlan(experiment, { ...results, decision } as unknown as ExperimentResults);
    const [a, b] = plan.arms;
    expect(a.params).toEqual({
      arm: 'A',
      control: 'true',
      weight: '0.5',
      'prompt.name': 'summarizer',
      'prompt.hash': 'a'.repeat(64),
    });
    expect(a.metrics).toMatchObject({
      n: 100,
      rating_mean: 3.5,
      rating_ci95_low: 3.3,
      rating_ci95_high: 3.7,
      thumbs_rate: 0.6,
      latency_p50_ms: 800,
      latency_p95_ms: 1200,
      cost_per_request_usd: 0.0002,
    });
    // Control has no comparison against itself.
    expect(a.metrics.rating_p_value).toBeUndefined();
    expect(b.metrics).toMatchObject({
      rating_diff: 0.4,
      rating_p_value: 0.001,
      rating_sequential_p_value: 0.01,
      decision_p_value: 0.004,
      decision_adjusted_p_value: 0.008,
      'guardrail.latencyMs maxRelativeIncrease_0.1_breach_p_value': 0.6,
      'guardrail.latencyMs maxRelativeIncrease_0.1_breach_adjusted_p_value': 0.9,
      'guardrail.latencyMs maxRelativeIncrease_0.1_breached': 0,
    });
    // Nulls are left out (MLflow metrics are numbers), never written as 0 or NaN.
    expect(b.metrics).not.toHaveProperty('latency_p50_ms');
    expect(b.metrics).not.toHaveProperty('score.helpful ness__p_value');
    expect(b.metrics['score.helpful ness__mean']).toBe(0.8);
    expect(plan.parent.metrics).toEqual({
      srm_p_value: 0.75,
      srm_mismatch: 0,
      sample_size_needed_per_arm: 150,
      sample_size_reached: 0,
    });
  });

  it('reports verdict `none` without a decision policy', () => {
    const plan = buildExportPlan(experiment, { ...results, decision: null });
    expect(plan.parent.tags['llmops.verdict']).toBe('none');
    expect(plan.parent.tags).not.toHaveProperty('llmops.decision.alpha');
    expect(plan.arms[1].metrics).not.toHaveProperty('decision_p_value');
  });

  it("logs each arm's prompt settings as params: model, params.<name> (JSON unless a string), other non-text fields", () => {
    const spec = {
      template: 'Summarize: {text}',
      system: 'You are terse.',
      fewShot: [{ input: 'a', output: 'b' }],
      model: 'gpt-4o-mini',
      params: { temperature: 0.7, max_tokens: 256, stop: ['\n\n'], seed: null, reasoning: 'low' },
      responseFormat: { type: 'json_object' },
    };
    const settings = promptSettings(spec)!;
    const plan = buildExportPlan(
      experiment,
      { ...results, decision } as unknown as ExperimentResults,
      new Map([['b'.repeat(64), settings]]),
    );
    const [a, b] = plan.arms;
    expect(b.params).toEqual({
      arm: 'B',
      control: 'false',
      weight: '0.5',
      'prompt.name': 'summarizer',
      'prompt.hash': 'b'.repeat(64),
      model: 'gpt-4o-mini',
      'params.temperature': '0.7',
      'params.max_tokens': '256',
      'params.stop': '["\\n\\n"]',
      'params.seed': 'null',
      'params.reasoning': 'low',
      responseFormat: '{"type":"json_object"}',
    });
    expect(b.tags['llmops.prompt.settings']).toBe('known');
    // Arm A's version is not known to analytics: name and hash only, and the tag says so.
    expect(a.params).not.toHaveProperty('model');
    expect(Object.keys(a.params).filter((k) => k.startsWith('params.'))).toEqual([]);
    expect(a.tags['llmops.prompt.settings']).toBe('unknown');
  });

  it('never logs prompt text, and leaves out settings longer than MLflow accepts', () => {
    const messages = [{ role: 'user', content: 'Summarize: {text}' }];
    expect(promptSettings({ messages, model: 'm' })).toEqual({ model: 'm', params: {}, other: {} });
    expect(promptSettings({ template: 'x' })).toBeNull();
    expect(promptSettings('not a spec')).toBeNull();
    const tools = [{ name: 'search', description: 'x'.repeat(MLFLOW_PARAM_VALUE_MAX) }];
    const { params, omitted } = promptSettingsParams(
      promptSettings({ messages, model: 'm', params: { 'top k?': 5 }, tools })!,
    );
    expect(params).toEqual({ model: 'm', 'params.top k_': '5' });
    expect(omitted).toEqual(['tools']);
    const plan = buildExportPlan(
      experiment,
      results,
      new Map([['a'.repeat(64), promptSettings({ messages, model: 'm', tools })!]]),
    );
    expect(plan.arms[0].tags).toMatchObject({
      'llmops.prompt.settings': 'known',
      'llmops.prompt.settings.omitted': 'tools',
    });
  });

  it('keys guardrail metrics by guardrail, so two guardrails on one metric never overwrite each other', () => {
    const guardrail = decision.guardrails[0];
    const withTwo = {
      ...results,
      decision: {
        ...decision,
        guardrails: [
          {
            ...guardrail,
            guardrail: 'latencyMs maxRelativeIncrease=0.1',
            breachPValue: 0.01,
            breached: true,
          },
          {
            ...guardrail,
            guardrail: 'latencyMs maxAbsoluteIncrease=200',
            breachPValue: 0.7,
            breached: false,
          },
        ],
      },
    } as unknown as ExperimentResults;
    const b = buildExportPlan(experiment, withTwo).arms.find((r) => r.arm === 'B')!;
    expect(b.metrics).toMatchObject({
      'guardrail.latencyMs maxRelativeIncrease_0.1_breached': 1,
      'guardrail.latencyMs maxRelativeIncrease_0.1_breach_p_value': 0.01,
      'guardrail.latencyMs maxAbsoluteIncrease_200_breached': 0,
      'guardrail.latencyMs maxAbsoluteIncrease_200_breach_p_value': 0.7,
    });
    expect(Object.keys(b.metrics).filter((k) => k.startsWith('guardrail.'))).toHaveLength(6);
    for (const key of Object.keys(b.metrics)) expect(key).toMatch(/^[A-Za-z0-9_\-./ ]+$/);
  });

  it('keeps metric keys within what MLflow accepts', () => {
    expect(metricKey('score.tone:formal?')).toBe('score.tone_formal_');
    expect(metricKey('a/b-c d_e.f')).toBe('a/b-c d_e.f');
  });
});

describe('ExportToMlflowUseCase', () => {
  it('answers mlflow_not_configured (503) without MLFLOW_TRACKING_URI', async () => {
    const experiments: Pick<ExperimentsRepository, 'findByKey'> = {
      findByKey: () => Promise.resolve(experiment),
    };
    const getResults: Pick<GetResultsUseCase, 'forExperiment'> = {
      forExperiment: () => Promise.resolve(results),
    };
    const promptSettings: Pick<PromptSettingsRepository, 'find'> = {
      find: () => Promise.resolve(new Map()),
    };
    const useCase = new ExportToMlflowUseCase(
      experiments as ExperimentsRepository,
      getResults as GetResultsUseCase,
      promptSettings as PromptSettingsRepository,
      {} as MlflowExportsRepository,
      { MLFLOW_TRACKING_URI: undefined },
    );
    expect(useCase.enabled).toBe(false);
    const err = await useCase.execute('team', 'summarizer').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowNotConfiguredError);
    expect(err).toMatchObject({ status: 503, code: 'mlflow_not_configured' });
  });
});
