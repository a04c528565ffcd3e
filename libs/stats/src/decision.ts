/**
 * The verdict of an experiment's decision policy from per-arm sufficient statistics: pure, so the
 * service that evaluates policies only loads aggregates, calls this and persists `state`.
 *
 * Statistics (all always valid, so the policy may be evaluated after every batch):
 * - primary metric, each treatment arm against control: the two-sided mSPRT of sequential.ts,
 *   folded across evaluations with accumulateAlwaysValid. An arm is decided at the first
 *   evaluation where its Holm-adjusted running-minimum p-value is below α; the direction of the
 *   difference at the evaluation that set that minimum says whether it is better or worse;
 * - futility, when `minimumDetectableEffect` is set: the one-sided always-valid test of
 *   nonInferiorityTest that the improvement is below the MDE (H0: improvement ≥ MDE);
 * - each guardrail, each treatment arm: the one-sided always-valid breach test of
 *   nonInferiorityTest with the guardrail's margin.
 * With several treatment arms, each family (primary, futility, each guardrail) is Holm-adjusted
 * across the arms; Holm on running minima keeps the family-wise error at α over all evaluations
 * (see holm.ts). Guardrails are not corrected across metrics: a false breach only stops early.
 *
 * Verdict, first match wins:
 * 1. `guardrail-breach`: some guardrail's adjusted breach p-value is below α for some arm;
 * 2. `winner`: some arm is decided better on the primary metric; the winner is the one with the
 *    largest improvement now;
 * 3. `no-difference`: every treatment arm is settled without beating control: decided worse, or
 *    shown to improve by less than the MDE;
 * 4. `continue`.
 * Running minima make a verdict sticky: more data never takes a decision back, but a guardrail can
 * still turn a `winner` into a `guardrail-breach` while the experiment runs.
 *
 * Metric names are the policy's (`rating`, `thumbs`, `latencyMs`, `costUsd`, `thumbsDownRate`,
 * `score:<name>`); a binary metric enters as proportionToMeanStats. A metric an arm has no
 * aggregates for counts as no data. The policy's `autoStop` and `autoPromote` are for whoever acts
 * on the verdict and are ignored here.
 */
import { holmAdjust } from './holm';
import { nonInferiorityTest, type GuardrailMargin } from './non-inferiority';
import { fail, ok, type DegenerateReason, type Interval, type StatResult } from './result';
import { accumulateAlwaysValid, sequentialTest, type AlwaysValidState } from './sequential';
import type { MeanStats } from './sufficient-stats';

export type Verdict = 'continue' | 'winner' | 'no-difference' | 'guardrail-breach';

/** A guardrail: a metric and exactly one margin field (see GuardrailMargin). */
export interface DecisionGuardrail {
  readonly metric: string;
  readonly maxAbsoluteIncrease?: number;
  readonly maxRelativeIncrease?: number;
  readonly maxAbsoluteDecrease?: number;
  readonly maxRelativeDecrease?: number;
}

/** The part of an experiment's decision policy the statistics depend on. */
export interface DecisionPolicy {
  readonly primary: string;
  readonly direction: 'increase' | 'decrease';
  /** In (0, 0.5]. */
  readonly alpha: number;
  /** Smallest improvement worth having, in the primary metric's units; enables `no-difference`. */
  readonly minimumDetectableEffect?: number | null;
  readonly guardrails?: readonly DecisionGuardrail[];
}

export interface ArmAggregates {
  readonly arm: string;
  /** Sufficient statistics per metric name. */
  readonly metrics: Readonly<Record<string, MeanStats | undefined>>;
}

export interface DecisionArms {
  /** Name of the control arm; every other arm is a treatment. */
  readonly control: string;
  readonly arms: readonly ArmAggregates[];
}

export interface PrimaryState extends AlwaysValidState {
  /** Difference (treatment − control) at the evaluation that set the running-minimum p-value. */
  readonly diffAtMinimum: number;
}

export interface GuardrailState {
  /** Identity of the guardrail: metric and margin (guardrailKey). */
  readonly guardrail: string;
  readonly looks: number;
  readonly breachPValue: number;
  readonly nonInferiorityPValue: number;
}

/** What to persist between evaluations, per treatment arm. Plain JSON with no metric-named keys. */
export interface DecisionState {
  /**
   * The policy the running minima belong to (decisionStateKey: primary metric, direction, MDE and
   * alpha). A state kept under another key is not carried over: minima of another metric, or
   * gathered against another alpha, would decide the new policy on old evidence.
   */
  readonly policy?: string;
  readonly arms: readonly {
    readonly arm: string;
    readonly primary: PrimaryState | null;
    /** Running minimum of the futility p-value; null without an MDE or data. */
    readonly futilityPValue: number | null;
    readonly guardrails: readonly GuardrailState[];
  }[];
}

export interface PrimaryArmStatistics {
  readonly arm: string;
  /** treatment − control at this evaluation. */
  readonly diff: number | null;
  /** Always-valid 95% interval (running intersection). */
  readonly ci95: Interval | null;
  /** Always-valid p-value (running minimum), unadjusted. */
  readonly pValue: number | null;
  /** Holm-adjusted across the treatment arms (equal to pValue with one treatment arm). */
  readonly adjustedPValue: number | null;
  readonly decided: 'better' | 'worse' | null;
  /** Always-valid p-value of "improvement ≥ MDE" (running minimum); null without an MDE. */
  readonly futilityPValue: number | null;
  readonly adjustedFutilityPValue: number | null;
  /** Why this evaluation has no statistic for the arm (e.g. `n<2`), else null. */
  readonly reason: DegenerateReason | null;
}

export interface GuardrailArmStatistics {
  readonly guardrail: string;
  readonly metric: string;
  readonly arm: string;
  readonly scale: 'difference' | 'log-ratio' | null;
  readonly diff: number | null;
  readonly relativeChange: number | null;
  /** Always-valid breach p-value (running minimum), unadjusted and Holm-adjusted across arms. */
  readonly breachPValue: number | null;
  readonly adjustedBreachPValue: number | null;
  /** Always-valid non-inferiority p-value (running minimum), unadjusted and Holm-adjusted. */
  readonly nonInferiorityPValue: number | null;
  readonly adjustedNonInferiorityPValue: number | null;
  readonly breached: boolean;
  readonly reason: DegenerateReason | null;
}

export interface DecisionEvaluation {
  readonly verdict: Verdict;
  /** The promoted arm when the verdict is `winner`. */
  readonly winner: string | null;
  readonly alpha: number;
  readonly primary: readonly PrimaryArmStatistics[];
  readonly guardrails: readonly GuardrailArmStatistics[];
  /** Persist and pass back as `previous` at the next evaluation. */
  readonly state: DecisionState;
}

const MARGIN_FIELDS = [
  'maxAbsoluteIncrease',
  'maxRelativeIncrease',
  'maxAbsoluteDecrease',
  'maxRelativeDecrease',
] as const;

/** Stable identity of a guardrail, e.g. `latencyMs maxRelativeIncrease=0.1`. */
export function guardrailKey(guardrail: DecisionGuardrail): string {
  const margins = MARGIN_FIELDS.filter((f) => guardrail[f] !== undefined).map((f) => `${f}=${guardrail[f]}`);
  return [guardrail.metric, ...margins].join(' ');
}

/**
 * Identity of the part of a policy that running minima depend on, e.g.
 * `rating increase mde=0.2 alpha=0.05`. Guardrail minima are also keyed each by guardrailKey.
 */
export function decisionStateKey(policy: DecisionPolicy): string {
  const mde = policy.minimumDetectableEffect ?? null;
  return `${policy.primary} ${policy.direction} mde=${mde ?? 'none'} alpha=${policy.alpha}`;
}

/** Holm-adjusts the arms' running minima; an arm without one enters the family as p = 1. */
function adjust(pValues: readonly (number | null)[]): number[] {
  return holmAdjust(pValues.map((p) => p ?? 1));
}

const NO_DATA: MeanStats = { n: 0, sum: 0, sumSq: 0 };

/**
 * Evaluates a decision policy on the current aggregates. `previous` is the `state` of the last
 * evaluation of the same experiment (null the first time); it is ignored when it was kept for
 * another primary metric, direction, MDE or alpha (see DecisionState.policy), so that a policy
 * changed while the experiment runs starts its sequential tests afresh.
 */
export function evaluateDecision(
  policy: DecisionPolicy,
  arms: DecisionArms,
  kept: DecisionState | null = null,
): StatResult<DecisionEvaluation, 'invalid-input' | 'fewer-than-2-arms'> {
  const { alpha, direction } = policy;
  const policyKey = decisionStateKey(policy);
  const previous = kept?.policy === policyKey ? kept : null;
  if (!(alpha > 0 && alpha <= 0.5)) return fail('invalid-input', `alpha must be in (0, 0.5]; got ${alpha}`);
  const mde = policy.minimumDetectableEffect ?? null;
  if (mde !== null && !(mde > 0 && Number.isFinite(mde))) {
    return fail('invalid-input', `minimumDetectableEffect must be a positive finite number; got ${mde}`);
  }
  const control = arms.arms.find((a) => a.arm === arms.control);
  if (!control) return fail('invalid-input', `the control arm "${arms.control}" is not among the arms`);
  const treatments = arms.arms.filter((a) => a.arm !== arms.control);
  if (treatments.length === 0)
    return fail('fewer-than-2-arms', 'a decision needs at least one treatment arm');
  const guardrails = policy.guardrails ?? [];
  const better = direction === 'increase' ? 1 : -1;
  const metric = (arm: ArmAggregates, name: string) => arm.metrics[name] ?? NO_DATA;

  const perArm = treatments.map((treatment) => {
    const before = previous?.arms.find((a) => a.arm === treatment.arm);
    const c = metric(control, policy.primary);
    const t = metric(treatment, policy.primary);
    const look = sequentialTest(c, t);
    let primary = before?.primary ?? null;
    if (look.ok) {
      const folded = accumulateAlwaysValid(primary, look.value);
      const newMinimum = primary === null || look.value.pValue < primary.pValue;
      primary = { ...folded, diffAtMinimum: newMinimum ? look.value.diff : (primary?.diffAtMinimum ?? 0) };
    }
    let futilityPValue = mde === null ? null : (before?.futilityPValue ?? null);
    let futilityReason: DegenerateReason | null = null;
    if (mde !== null) {
      const margin = direction === 'increase' ? { maxAbsoluteIncrease: mde } : { maxAbsoluteDecrease: mde };
      const f = nonInferiorityTest(c, t, margin);
      if (f.ok) futilityPValue = Math.min(futilityPValue ?? 1, f.value.nonInferiorityPValue);
      else futilityReason = f.reason;
    }
    const guardrailLooks = guardrails.map((g) => {
      const key = guardrailKey(g);
      const was = before?.guardrails.find((s) => s.guardrail === key) ?? null;
      const r = nonInferiorityTest(
        metric(control, g.metric),
        metric(treatment, g.metric),
        g as GuardrailMargin,
      );
      const state: GuardrailState | null = r.ok
        ? {
            guardrail: key,
            looks: (was?.looks ?? 0) + 1,
            breachPValue: Math.min(was?.breachPValue ?? 1, r.value.breachPValue),
            nonInferiorityPValue: Math.min(was?.nonInferiorityPValue ?? 1, r.value.nonInferiorityPValue),
          }
        : was;
      return { key, guardrail: g, result: r, state };
    });
    return {
      arm: treatment.arm,
      look,
      primary,
      futilityPValue,
      futilityReason,
      guardrailLooks,
    };
  });

  const adjustedPrimary = adjust(perArm.map((a) => a.primary?.pValue ?? null));
  const adjustedFutility = adjust(perArm.map((a) => a.futilityPValue));
  const primary: PrimaryArmStatistics[] = perArm.map((a, i) => {
    const adjusted = a.primary === null ? null : adjustedPrimary[i];
    const decided =
      adjusted !== null && adjusted < alpha && a.primary !== null
        ? better * a.primary.diffAtMinimum > 0
          ? 'better'
          : 'worse'
        : null;
    return {
      arm: a.arm,
      diff: a.look.ok ? a.look.value.diff : null,
      ci95: a.primary?.ci95 ?? null,
      pValue: a.primary?.pValue ?? null,
      adjustedPValue: adjusted,
      decided,
      futilityPValue: a.futilityPValue,
      adjustedFutilityPValue: a.futilityPValue === null ? null : adjustedFutility[i],
      reason: a.look.ok ? a.futilityReason : a.look.reason,
    };
  });

  const guardrailStats: GuardrailArmStatistics[] = [];
  guardrails.forEach((g, k) => {
    const looks = perArm.map((a) => a.guardrailLooks[k]);
    const breach = adjust(looks.map((l) => l.state?.breachPValue ?? null));
    const nonInferiority = adjust(looks.map((l) => l.state?.nonInferiorityPValue ?? null));
    looks.forEach((l, i) => {
      const r = l.result.ok ? l.result.value : null;
      const has = l.state !== null;
      guardrailStats.push({
        guardrail: l.key,
        metric: g.metric,
        arm: perArm[i].arm,
        scale: r?.scale ?? null,
        diff: r?.diff ?? null,
        relativeChange: r?.relativeChange ?? null,
        breachPValue: l.state?.breachPValue ?? null,
        adjustedBreachPValue: has ? breach[i] : null,
        nonInferiorityPValue: l.state?.nonInferiorityPValue ?? null,
        adjustedNonInferiorityPValue: has ? nonInferiority[i] : null,
        breached: has && breach[i] < alpha,
        reason: l.result.ok ? null : l.result.reason,
      });
    });
  });

  let verdict: Verdict = 'continue';
  let winner: string | null = null;
  const winners = primary.filter((p) => p.decided === 'better');
  if (guardrailStats.some((g) => g.breached)) {
    verdict = 'guardrail-breach';
  } else if (winners.length > 0) {
    verdict = 'winner';
    const improvement = (p: PrimaryArmStatistics) => better * (p.diff ?? 0);
    winner = winners.reduce((best, p) => (improvement(p) > improvement(best) ? p : best)).arm;
  } else if (
    primary.every(
      (p) => p.decided === 'worse' || (p.adjustedFutilityPValue !== null && p.adjustedFutilityPValue < alpha),
    )
  ) {
    verdict = 'no-difference';
  }

  return ok({
    verdict,
    winner,
    alpha,
    primary,
    guardrails: guardrailStats,
    state: {
      policy: policyKey,
      arms: perArm.map((a) => ({
        arm: a.arm,
        primary: a.primary,
        futilityPValue: a.futilityPValue,
        guardrails: a.guardrailLooks.flatMap((l) => (l.state === null ? [] : [l.state])),
      })),
    },
  });
}
