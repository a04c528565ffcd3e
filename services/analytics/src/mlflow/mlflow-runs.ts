/**
 * Pure: what one experiment phase looks like in MLflow. One MLflow experiment per platform
 * experiment (`<project>/<key>`), and per phase a parent run holding the decision plus one child run
 * per arm. Runs are found again by their tags (`llmops.phase`, `llmops.role`, `llmops.arm`), so a
 * re-export updates them. MLflow params are immutable, so only what never changes within a phase is
 * a param (the arm's prompt version, weight, control); everything else is a metric or a tag.
 */
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

/** The decision as the results API reports it (absent: no policy, or not evaluated yet). */
export interface ExportedDecision {
  verdict: string;
  /** Per arm: the primary metric's raw and Holm-adjusted always-valid p-values. */
  arms: Array<{ arm: string; pValue: number | null; adjustedPValue: number | null }>;
  /** Per arm and guardrail metric: the breach test's raw and Holm-adjusted p-values. */
  guardrails: Array<{
    arm: string;
    metric: string;
    breached: boolean;
    pValue: number | null;
    adjustedPValue: number | null;
  }>;
  extra: Record<string, string>;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Reads the `decision` of a results answer: the verdict, per arm the primary metric's p-values
 * (`primary[]`), and the guardrails' breach p-values (`guardrails[]`). Fields it does not know are
 * ignored, so the export keeps working while the decision section grows.
 */
export function decisionOf(results: ExperimentResults): ExportedDecision | null {
  const raw = (results as { decision?: unknown }).decision;
  if (!raw || typeof raw !== 'object') return null;
  const d = raw as Record<string, unknown>;
  const verdict = str(d.verdict);
  if (!verdict) return null;
  const list = Array.isArray(d.arms) ? d.arms : Array.isArray(d.primary) ? d.primary : [];
  const arms = list.flatMap((a: unknown) => {
    if (!a || typeof a !== 'object') return [];
    const x = a as Record<string, unknown>;
    const arm = str(x.arm);
    if (!arm) return [];
    const p = (x.sequential as Record<string, unknown> | undefined)?.pValue;
    return [
      {
        arm,
        pValue: num(x.pValue) ?? num(p),
        adjustedPValue: num(x.adjustedPValue) ?? num(x.holmAdjustedPValue),
      },
    ];
  });
  const guardrails = (Array.isArray(d.guardrails) ? d.guardrails : []).flatMap((g: unknown) => {
    if (!g || typeof g !== 'object') return [];
    const x = g as Record<string, unknown>;
    const arm = str(x.arm);
    const metric = str(x.metric);
    if (!arm || !metric) return [];
    return [
      {
        arm,
        metric,
        breached: x.breached === true,
        pValue: num(x.breachPValue),
        adjustedPValue: num(x.adjustedBreachPValue),
      },
    ];
  });
  const extra: Record<string, string> = {};
  const primaryMetric = list.length > 0 ? str((list[0] as Record<string, unknown>).metric) : null;
  if (primaryMetric) extra.primary = primaryMetric;
  for (const k of ['publishedVerdict', 'eventId', 'alpha', 'evaluatedAt']) {
    const v = d[k];
    if (typeof v === 'string' || typeof v === 'number') extra[k] = String(v);
  }
  const winner = d.winner as { arm?: unknown } | null | undefined;
  if (winner && typeof winner.arm === 'string') extra.winner = winner.arm;
  return { verdict, arms, guardrails, extra };
}

/** MLflow metric keys: alphanumerics, `_ - . / space`; other characters of score names become `_`. */
export function metricKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_\-./ ]/g, '_').slice(0, 250);
}

function put(metrics: Record<string, number>, key: string, value: unknown): void {
  const v = num(value);
  if (v !== null) metrics[metricKey(key)] = v;
}

export function buildExportPlan(
  experiment: ExperimentDoc,
  results: ExperimentResults,
  decision: ExportedDecision | null,
): MlflowExportPlan {
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
    const params: Record<string, string> = {
      arm: a.arm,
      control: String(a.arm === results.control),
      ...(config ? { weight: String(config.weight) } : {}),
      ...(prompt ? { 'prompt.name': prompt.name, 'prompt.hash': prompt.hash } : {}),
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
    const d = decision?.arms.find((x) => x.arm === a.arm);
    put(metrics, 'decision_p_value', d?.pValue);
    put(metrics, 'decision_adjusted_p_value', d?.adjustedPValue);
    for (const g of decision?.guardrails.filter((x) => x.arm === a.arm) ?? []) {
      const m = g.metric.replace(/^score:/, 'score.');
      put(metrics, `guardrail.${m}_breach_p_value`, g.pValue);
      put(metrics, `guardrail.${m}_breach_adjusted_p_value`, g.adjustedPValue);
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
        ...(prompt ? { 'llmops.prompt.name': prompt.name, 'llmops.prompt.hash': prompt.hash } : {}),
      },
    };
  });
  const parentMetrics: Record<string, number> = {};
  put(parentMetrics, 'srm_p_value', results.srm.pValue);
  put(parentMetrics, 'srm_mismatch', results.srm.mismatch ? 1 : 0);
  put(parentMetrics, 'sample_size_needed_per_arm', results.sampleSize.neededPerArm);
  put(parentMetrics, 'sample_size_reached', results.sampleSize.reached ? 1 : 0);
  const decisionTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(decision?.extra ?? {})) decisionTags[`llmops.decision.${k}`] = v;
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
        ...decisionTags,
      },
    },
    arms,
  };
}
