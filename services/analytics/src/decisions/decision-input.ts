/**
 * Pure: from the merged aggregates of an experiment phase to the input of `evaluateDecision`
 * (`@llmops/stats`), and from its evaluation to the data of `io.llmops.experiment.decision.v1`.
 *
 * Metrics, per arm, as (n, Σx, Σx²):
 * - `rating`, `score:<name>`: the current feedback revisions' values;
 * - `thumbs`: thumbs feedback as 0/1 (1 = up); `thumbsDownRate`: the same with 1 = down;
 * - `latencyMs`: every generation's latency; `costUsd`: the cost of the generations that report one.
 */
import type { DecisionVerdict, ExperimentDecisionData, ExperimentDecisionPolicy } from '@llmops/contracts';
import {
  type ArmAggregates,
  type DecisionArms,
  type DecisionEvaluation,
  type MeanStats,
  proportionToMeanStats,
} from '@llmops/stats';
import { type BucketValues, escapeScoreName, scoreOf } from '../domain/bucket';
import type { ExperimentDoc } from '../persistence/analytics.schemas';

/** The sufficient statistics of `metric` (a policy metric name) in an arm's merged values. */
export function metricStats(values: BucketValues, metric: string): MeanStats | undefined {
  const thumbs = values.thumbsUp + values.thumbsDown;
  switch (metric) {
    case 'rating':
      return values.rating;
    case 'thumbs':
      return proportionToMeanStats({ n: thumbs, successes: values.thumbsUp });
    case 'thumbsDownRate':
      return proportionToMeanStats({ n: thumbs, successes: values.thumbsDown });
    case 'latencyMs':
      return values.latencyMoments;
    case 'costUsd':
      return values.costMoments;
    default:
      return metric.startsWith('score:')
        ? scoreOf(values.scores, escapeScoreName(metric.slice(6)))
        : undefined;
  }
}

/** The metrics a policy reads. */
export function policyMetrics(policy: ExperimentDecisionPolicy): string[] {
  return [...new Set([policy.primary, ...policy.guardrails.map((g) => g.metric)])];
}

/** The experiment's arms (only those: data of other arms is not counted) with the policy's metrics. */
export function decisionArms(
  experiment: Pick<ExperimentDoc, 'control' | 'arms'>,
  policy: ExperimentDecisionPolicy,
  merged: ReadonlyMap<string, { values: BucketValues }>,
): DecisionArms {
  const metrics = policyMetrics(policy);
  const arms: ArmAggregates[] = experiment.arms.map(({ name }) => {
    const values = merged.get(name)?.values;
    return {
      arm: name,
      metrics: Object.fromEntries(metrics.map((m) => [m, values ? metricStats(values, m) : undefined])),
    };
  });
  return { control: experiment.control, arms };
}

/**
 * The decision event's data for an evaluation. `previousVerdict` is the verdict last published
 * for the phase (null: none). The winner's prompt version is the arm's in the experiment snapshot.
 */
export function decisionEventData(
  experiment: Pick<ExperimentDoc, 'key' | 'phase' | 'control' | 'arms'>,
  policy: ExperimentDecisionPolicy,
  evaluation: DecisionEvaluation,
  previousVerdict: DecisionVerdict | null,
  evaluatedAt: string,
): ExperimentDecisionData {
  let winner: ExperimentDecisionData['winner'] = null;
  if (evaluation.verdict === 'winner' && evaluation.winner !== null) {
    const prompt = experiment.arms.find((a) => a.name === evaluation.winner)?.prompt;
    if (!prompt) throw new Error(`arm "${evaluation.winner}" of ${experiment.key} has no prompt version`);
    winner = { arm: evaluation.winner, prompt: { name: prompt.name, hash: prompt.hash } };
  }
  return {
    experimentKey: experiment.key,
    phase: experiment.phase,
    verdict: evaluation.verdict,
    previousVerdict,
    winner,
    breaches: evaluation.guardrails
      .filter((g) => g.breached)
      .map((g) => ({ arm: g.arm, guardrail: g.guardrail, metric: g.metric })),
    control: experiment.control,
    alpha: evaluation.alpha,
    primary: evaluation.primary.map((p) => ({
      metric: policy.primary,
      arm: p.arm,
      diff: p.diff,
      ci95: p.ci95 === null ? null : [p.ci95[0], p.ci95[1]],
      pValue: p.pValue,
      adjustedPValue: p.adjustedPValue,
      decided: p.decided,
      futilityPValue: p.futilityPValue,
      adjustedFutilityPValue: p.adjustedFutilityPValue,
      reason: p.reason,
    })),
    guardrails: evaluation.guardrails.map((g) => ({
      guardrail: g.guardrail,
      metric: g.metric,
      arm: g.arm,
      scale: g.scale,
      diff: g.diff,
      relativeChange: g.relativeChange,
      breachPValue: g.breachPValue,
      adjustedBreachPValue: g.adjustedBreachPValue,
      nonInferiorityPValue: g.nonInferiorityPValue,
      adjustedNonInferiorityPValue: g.adjustedNonInferiorityPValue,
      breached: g.breached,
      reason: g.reason,
    })),
    policy,
    evaluatedAt,
  };
}
