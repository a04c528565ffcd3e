/**
 * Pure: what one experiment phase looks like in MLflow. One MLflow experiment per platform
 * experiment (`<project>/<key>`), and per phase a parent run holding the decision plus one child run
 * per arm. Runs are found again by their tags (`llmops.phase`, `llmops.role`, `llmops.arm`), so a
 * re-export updates them. MLflow params are immutable, so only what never changes within a phase is
 * a param (the arm's prompt version and its settings, weight, control); everything else is a metric
 * or a tag.
 */
import type { JsonValue } from '@llmops/contracts';
import type { PromptSettings } from '../domain/prompt-settings';
import type { ExperimentDoc } from '../persistence/analytics.schemas';
import type { ExperimentResults } from '../results/dto/results.response';

export interface MlflowRunSpec {
  /** `decision` (the parent) or `arm`. */
  role: 'decision' | 'arm';
  /** The arm of an arm run. */
  arm?: string;
  runName: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export interface MlflowExportPlan {
  experimentName: string;
  experimentTags: Record<string, string>;
  phase: number;
  parent: MlflowRunSpec;
  arms: MlflowRunSpec[];
}

/** MLflow metric keys: alphanumerics, `_ - . / space`; other characters of score names become `_`. */
export function metricKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_\-./ ]/g, '_').slice(0, 250);
}

/** MLflow's limit on a param value (characters). */
export const MLFLOW_PARAM_VALUE_MAX = 6000;

/**
 * A prompt version's settings as MLflow params: `model`, `params.<name>` per sampling param, and
 * `<field>` per other non-text spec field (`responseFormat`, `tools`); values that are not strings
 * are JSON. A value longer than MLflow accepts is left out and named in `omitted`.
 */
export function promptSettingsParams(settings: PromptSettings): {
  params: Record<string, string>;
  omitted: string[];
} {
  const params: Record<string, string> = {};
  const omitted: string[] = [];
  const add = (key: string, value: JsonValue) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text.length > MLFLOW_PARAM_VALUE_MAX) omitted.push(metricKey(key));
    else params[metricKey(key)] = text;
  };
  add('model', settings.model);
  for (const [name, value] of Object.entries(settings.params)) add(`params.${name}`, value);
  for (const [field, value] of Object.entries(settings.other)) add(field, value);
  return { params, omitted };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function put(metrics: Record<string, number>, key: string, value: unknown): void {
  const v = num(value);
  if (v !== null) metrics[metricKey(key)] = v;
}

/** The decision's facts the parent run keeps as tags (`llmops.decision.<name>`). */
function decisionTags(decision: ExperimentResults['decision']): Record<string, string> {
  if (!decision) return {};
  const tags: Record<string, string> = {
    'llmops.decision.alpha': String(decision.alpha),
    'llmops.decision.evaluatedAt': decision.evaluatedAt,
    'llmops.decision.publishedVerdict': decision.publishedVerdict ?? 'none',
  };
  if (decision.primary.length > 0) tags['llmops.decision.primary'] = decision.primary[0].metric;
  if (decision.winner) tags['llmops.decision.winner'] = decision.winner.arm;
  if (decision.eventId) tags['llmops.decision.eventId'] = decision.eventId;
  if (decision.breaches.length > 0)
    tags['llmops.decision.breaches'] = decision.breaches.map((b) => `${b.arm}:${b.metric}`).join(',');
  return tags;
}

/**
 * `promptSettings`: the settings of the arms' prompt versions that analytics knows, by hash. An arm
 * whose version is unknown (registered before analytics consumed the versions topic, or no longer in
 * it) gets the prompt's name and hash only, and says so in its `llmops.prompt.settings` tag.
 */
export function buildExportPlan(
  experiment: ExperimentDoc,
  results: ExperimentResults,
  promptSettings: ReadonlyMap<string, PromptSettings> = new Map(),
): MlflowExportPlan {
  const decision = results.decision;
  const verdict = decision?.verdict ?? 'none';
  const common = {
    'llmops.project': experiment.project,
    'llmops.experiment': experiment.key,
    'llmops.phase': String(experiment.phase),
    'llmops.status': experiment.status,
    'llmops.verdict': verdict,
  };
  const arms = results.arms.map((a): MlflowRunSpec => {
    const config = experiment.arms.find((x) => x.name === a.arm);
    const prompt = (config as { prompt?: { name: string; hash: string } } | undefined)?.prompt;
    const settings = prompt ? promptSettings.get(prompt.hash) : undefined;
    const fromSettings = settings ? promptSettingsParams(settings) : undefined;
    const params: Record<string, string> = {
      arm: a.arm,
      control: String(a.arm === results.control),
      ...(config ? { weight: String(config.weight) } : {}),
      ...(prompt ? { 'prompt.name': prompt.name, 'prompt.hash': prompt.hash } : {}),
      ...fromSettings?.params,
    };
    const metrics: Record<string, number> = {};
    put(metrics, 'exposures', a.exposures);
    put(metrics, 'generations', a.generations);
    put(metrics, 'n', a.rating.n);
    put(metrics, 'rating_mean', a.rating.mean);
    put(metrics, 'rating_sd', a.rating.sd);
    put(metrics, 'rating_ci95_low', a.rating.ci95?.[0]);
    put(metrics, 'rating_ci95_high', a.rating.ci95?.[1]);
    put(metrics, 'thumbs_n', a.thumbs.n);
    put(metrics, 'thumbs_rate', a.thumbs.rate);
    put(metrics, 'thumbs_ci95_low', a.thumbs.ci95?.[0]);
    put(metrics, 'thumbs_ci95_high', a.thumbs.ci95?.[1]);
    put(metrics, 'latency_p50_ms', a.latencyMs.p50);
    put(metrics, 'latency_p95_ms', a.latencyMs.p95);
    put(metrics, 'latency_p99_ms', a.latencyMs.p99);
    put(metrics, 'cost_per_request_usd', a.costPerRequestUsd);
    put(metrics, 'cost_usd', a.costUsd);
    put(metrics, 'tokens_total', a.tokens.total);
    put(metrics, 'corrections', a.corrections);
    put(metrics, 'comments', a.comments);
    for (const [name, s] of Object.entries(a.scores)) {
      put(metrics, `score.${name}_n`, s.n);
      put(metrics, `score.${name}_mean`, s.mean);
    }
    // Comparisons against control (arm minus control): fixed-horizon and always-valid p-values.
    for (const c of results.comparisons.filter((x) => x.arm === a.arm)) {
      const m = c.metric.replace(/^score:/, 'score.');
      put(metrics, `${m}_diff`, c.diff);
      put(metrics, `${m}_p_value`, c.pValue);
      put(metrics, `${m}_sequential_p_value`, c.sequential.pValue);
    }
    // The decision's always-valid p-values: the primary metric's and each guardrail's breach test.
    // Guardrails are keyed by their identity (metric and margin, `=` becoming `_`): two guardrails
    // on one metric keep separate keys.
    const d = decision?.primary.find((x) => x.arm === a.arm);
    put(metrics, 'decision_p_value', d?.pValue);
    put(metrics, 'decision_adjusted_p_value', d?.adjustedPValue);
    for (const g of decision?.guardrails.filter((x) => x.arm === a.arm) ?? []) {
      const m = g.guardrail.replace(/^score:/, 'score.');
      put(metrics, `guardrail.${m}_breach_p_value`, g.breachPValue);
      put(metrics, `guardrail.${m}_breach_adjusted_p_value`, g.adjustedBreachPValue);
      put(metrics, `guardrail.${m}_breached`, g.breached ? 1 : 0);
    }
    return {
      role: 'arm',
      arm: a.arm,
      runName: `${experiment.key} · ${a.arm}${a.arm === results.control ? ' (control)' : ''}`,
      params,
      metrics,
      tags: {
        ...common,
        'llmops.role': 'arm',
        'llmops.arm': a.arm,
        'llmops.control': String(a.arm === results.control),
        ...(prompt
          ? {
              'llmops.prompt.name': prompt.name,
              'llmops.prompt.hash': prompt.hash,
              'llmops.prompt.settings': settings ? 'known' : 'unknown',
            }
          : {}),
        ...(fromSettings?.omitted.length
          ? { 'llmops.prompt.settings.omitted': fromSettings.omitted.join(',') }
          : {}),
      },
    };
  });
  const parentMetrics: Record<string, number> = {};
  put(parentMetrics, 'srm_p_value', results.srm.pValue);
  put(parentMetrics, 'srm_mismatch', results.srm.mismatch ? 1 : 0);
  put(parentMetrics, 'sample_size_needed_per_arm', results.sampleSize.neededPerArm);
  put(parentMetrics, 'sample_size_reached', results.sampleSize.reached ? 1 : 0);
  return {
    experimentName: `${experiment.project}/${experiment.key}`,
    experimentTags: { 'llmops.project': experiment.project, 'llmops.experiment': experiment.key },
    phase: experiment.phase,
    parent: {
      role: 'decision',
      runName: `${experiment.key} · phase ${experiment.phase} decision`,
      params: { control: results.control, arms: results.arms.map((a) => a.arm).join(',') },
      metrics: parentMetrics,
      tags: {
        ...common,
        'llmops.role': 'decision',
        'llmops.window.from': results.window.from,
        'llmops.window.to': results.window.to,
        'llmops.sample_size.metric': results.sampleSize.metric,
        ...decisionTags(decision),
      },
    },
    arms,
  };
}
