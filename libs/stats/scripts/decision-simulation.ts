/**
 * Simulations of the decisions an experiment policy acts on, with continuous monitoring: a look
 * after every `batchPerArm` users per arm, up to `maxPerArm` (20 and 2,000: 100 looks).
 *
 * - primary: the always-valid sequential test (sequentialTest folded with accumulateAlwaysValid)
 *   decides at the first look where its running-minimum p-value drops below α; the decision is a
 *   promotion when the difference then points in the improving direction (`increase` here).
 *   Run on A/A data it measures the rate of false promotions; on A/B data (a true effect in sd
 *   units) the share decided within a budget and the users per arm until the decision;
 * - guardrail: the one-sided always-valid breach test of nonInferiorityTest on latencies with a
 *   relative margin stops the experiment at the first look where its running-minimum p-value
 *   drops below α;
 * - Holm: several treatment arms against one control on A/A data, Holm-adjusting the arms'
 *   running-minimum p-values at every look; any adjusted value below α is a family-wise error.
 *
 *   node -r @swc-node/register libs/stats/scripts/decision-simulation.ts > libs/stats/scripts/decision-simulation.output.txt
 *
 * Deterministic: every run draws from mulberry32 seeded with (seed + run index). Each look costs
 * O(1) per arm: the arms keep only (n, sum, sumSq).
 */
import {
  accumulateAlwaysValid,
  holmAdjust,
  nonInferiorityTest,
  sequentialTest,
  type AlwaysValidState,
  type GuardrailMargin,
  type MeanStats,
} from '../src';
import { mulberry32 } from '../src/random';
import { sampler } from './aa-simulation';

// Bound once: inside jest's sandbox every lookup of the global `Math` is a slow vm-context access,
// which would dominate the sampling loops.
const { cos, exp, log, log1p, sin, sqrt, PI } = Math;

export interface LookSchedule {
  readonly runs: number;
  readonly batchPerArm: number;
  readonly maxPerArm: number;
  readonly alpha: number;
  readonly seed: number;
}

export const DEFAULT_SCHEDULE: LookSchedule = {
  runs: 1000,
  batchPerArm: 20,
  maxPerArm: 2000,
  alpha: 0.05,
  seed: 20261206,
};

/** Running (n, Σx, Σx²) of one arm. */
class Arm {
  n = 0;
  sum = 0;
  sumSq = 0;
  add(x: number): void {
    this.n++;
    this.sum += x;
    this.sumSq += x * x;
  }
  stats(): MeanStats {
    return { n: this.n, sum: this.sum, sumSq: this.sumSq };
  }
}

/** Standard normal draws by Box–Muller, using both values of each pair. */
function standardNormal(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const r = sqrt(-2 * log(1 - random()));
    const angle = 2 * PI * random();
    spare = r * sin(angle);
    return r * cos(angle);
  };
}

export type PrimaryData =
  { readonly kind: 'ratings' } | { readonly kind: 'normal'; readonly effectSd: number };

export interface PrimaryResult {
  readonly runs: number;
  readonly looksPerRun: number;
  /** Runs decided in the improving direction: automatic promotions. */
  readonly promotions: number;
  /** Runs decided in the other direction (the treatment is worse). */
  readonly decidedWorse: number;
  /** Runs promoted with at most `budgetPerArm` users per arm. */
  readonly promotedWithinBudget: number;
  readonly budgetPerArm: number;
  /** Median users per arm at the decision over all runs; Infinity when half never decide. */
  readonly medianUsersPerArm: number;
  readonly degenerateLooks: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The primary metric's decision with `direction: increase`: control against one treatment.
 * `ratings` is an A/A test on 1–5 ratings (aa-simulation's distribution); `normal` draws N(0, 1)
 * for control and N(effectSd, 1) for the treatment.
 */
export function runPrimarySimulation(
  data: PrimaryData,
  schedule: LookSchedule = DEFAULT_SCHEDULE,
  budgetPerArm = 500,
): PrimaryResult {
  const { runs, batchPerArm, maxPerArm, alpha, seed } = schedule;
  let promotions = 0;
  let decidedWorse = 0;
  let promotedWithinBudget = 0;
  let degenerateLooks = 0;
  const usersAtDecision: number[] = [];
  for (let run = 0; run < runs; run++) {
    const random = mulberry32(seed + run);
    let drawControl: () => number;
    let drawTreatment: () => number;
    if (data.kind === 'ratings') {
      drawControl = drawTreatment = sampler('ratings', random);
    } else {
      const z = standardNormal(random);
      drawControl = z;
      drawTreatment = () => data.effectSd + z();
    }
    const control = new Arm();
    const treatment = new Arm();
    let state: AlwaysValidState | null = null;
    let decidedAt = Infinity;
    while (control.n < maxPerArm) {
      for (let i = 0; i < batchPerArm; i++) {
        control.add(drawControl());
        treatment.add(drawTreatment());
      }
      const look = sequentialTest(control.stats(), treatment.stats());
      if (!look.ok) {
        degenerateLooks++;
        continue;
      }
      state = accumulateAlwaysValid(state, look.value);
      if (state.pValue < alpha) {
        decidedAt = control.n;
        if (look.value.diff > 0) {
          promotions++;
          if (control.n <= budgetPerArm) promotedWithinBudget++;
        } else {
          decidedWorse++;
        }
        break;
      }
    }
    usersAtDecision.push(decidedAt);
  }
  return {
    runs,
    looksPerRun: maxPerArm / batchPerArm,
    promotions,
    decidedWorse,
    promotedWithinBudget,
    budgetPerArm,
    medianUsersPerArm: median(usersAtDecision),
    degenerateLooks,
  };
}

export interface GuardrailResult {
  readonly runs: number;
  readonly looksPerRun: number;
  /** Runs stopped by the breach test. */
  readonly breaches: number;
  /** Median users per arm at the stop over all runs; Infinity when half never stop. */
  readonly medianUsersPerArm: number;
  readonly degenerateLooks: number;
}

export interface LatencyScenario {
  /** Mean latency of the control arm in ms. */
  readonly controlMeanMs: number;
  /** Treatment mean / control mean. */
  readonly ratio: number;
  /** Coefficient of variation (sd / mean) of both arms. */
  readonly cv: number;
  readonly margin: GuardrailMargin;
}

/** Lognormal latency per request: right-skewed, all positive, with the given mean and sd/mean. */
function lognormal(mean: number, cv: number, z: () => number): () => number {
  const sigma = sqrt(log1p(cv * cv));
  const mu = log(mean) - (sigma * sigma) / 2;
  return () => exp(mu + sigma * z());
}

/** A latency guardrail (higher is worse): the experiment stops at the first always-valid breach. */
export function runGuardrailSimulation(
  scenario: LatencyScenario,
  schedule: LookSchedule = DEFAULT_SCHEDULE,
): GuardrailResult {
  const { runs, batchPerArm, maxPerArm, alpha, seed } = schedule;
  let breaches = 0;
  let degenerateLooks = 0;
  const usersAtStop: number[] = [];
  for (let run = 0; run < runs; run++) {
    const z = standardNormal(mulberry32(seed + run));
    const drawControl = lognormal(scenario.controlMeanMs, scenario.cv, z);
    const drawTreatment = lognormal(scenario.controlMeanMs * scenario.ratio, scenario.cv, z);
    const control = new Arm();
    const treatment = new Arm();
    let minBreachP = 1;
    let stoppedAt = Infinity;
    while (control.n < maxPerArm) {
      for (let i = 0; i < batchPerArm; i++) {
        control.add(drawControl());
        treatment.add(drawTreatment());
      }
      const look = nonInferiorityTest(control.stats(), treatment.stats(), scenario.margin);
      if (!look.ok) {
        degenerateLooks++;
        continue;
      }
      minBreachP = Math.min(minBreachP, look.value.breachPValue);
      if (minBreachP < alpha) {
        breaches++;
        stoppedAt = control.n;
        break;
      }
    }
    usersAtStop.push(stoppedAt);
  }
  return {
    runs,
    looksPerRun: maxPerArm / batchPerArm,
    breaches,
    medianUsersPerArm: median(usersAtStop),
    degenerateLooks,
  };
}

export interface HolmResult {
  readonly runs: number;
  readonly looksPerRun: number;
  readonly treatmentArms: number;
  /** Runs where some Holm-adjusted p-value fell below α at some look. */
  readonly familyWiseErrors: number;
  /** Runs where some unadjusted running-minimum p-value fell below α at some look. */
  readonly unadjustedErrors: number;
  readonly degenerateLooks: number;
}

/** A/A with one control and `treatmentArms` identical treatments on 1–5 ratings. */
export function runHolmAaSimulation(
  treatmentArms: number,
  schedule: LookSchedule = DEFAULT_SCHEDULE,
): HolmResult {
  const { runs, batchPerArm, maxPerArm, alpha, seed } = schedule;
  let familyWiseErrors = 0;
  let unadjustedErrors = 0;
  let degenerateLooks = 0;
  for (let run = 0; run < runs; run++) {
    const draw = sampler('ratings', mulberry32(seed + run));
    const control = new Arm();
    const treatments = Array.from({ length: treatmentArms }, () => new Arm());
    const states: (AlwaysValidState | null)[] = treatments.map(() => null);
    let unadjusted = false;
    while (control.n < maxPerArm) {
      for (let i = 0; i < batchPerArm; i++) {
        control.add(draw());
        for (const arm of treatments) arm.add(draw());
      }
      const c = control.stats();
      treatments.forEach((arm, k) => {
        const look = sequentialTest(c, arm.stats());
        if (look.ok) states[k] = accumulateAlwaysValid(states[k], look.value);
        else degenerateLooks++;
      });
      const raw = states.map((s) => s?.pValue ?? 1);
      if (raw.some((p) => p < alpha)) unadjusted = true;
      if (holmAdjust(raw).some((p) => p < alpha)) {
        familyWiseErrors++;
        break;
      }
    }
    if (unadjusted) unadjustedErrors++;
  }
  return {
    runs,
    looksPerRun: maxPerArm / batchPerArm,
    treatmentArms,
    familyWiseErrors,
    unadjustedErrors,
    degenerateLooks,
  };
}

function rate(count: number, runs: number): string {
  const r = count / runs;
  return `${count.toString().padStart(4)} / ${runs} = ${r.toFixed(3)} (±${(1.96 * Math.sqrt((r * (1 - r)) / runs)).toFixed(3)})`;
}

export const LATENCY = { controlMeanMs: 800, cv: 0.5, margin: { maxRelativeIncrease: 0.1 } } as const;

function main(): void {
  const s = DEFAULT_SCHEDULE;
  const aa = runPrimarySimulation({ kind: 'ratings' });
  const ab = runPrimarySimulation({ kind: 'normal', effectSd: 0.3 });
  const breach = runGuardrailSimulation({ ...LATENCY, ratio: 1.3 });
  const boundary = runGuardrailSimulation({ ...LATENCY, ratio: 1.1 });
  const equal = runGuardrailSimulation({ ...LATENCY, ratio: 1 });
  const holm = runHolmAaSimulation(3);
  const users = (n: number) => (Number.isFinite(n) ? `${n}` : `> ${s.maxPerArm}`);
  const line = (label: string, value: string) => `  ${label.padEnd(54)} ${value}`;
  console.log(
    [
      'Decision simulations: continuous monitoring, α = 0.05 (±: 95% binomial margin)',
      'Generated by: node -r @swc-node/register libs/stats/scripts/decision-simulation.ts',
      `runs=${s.runs}  batch=${s.batchPerArm}/arm  max=${s.maxPerArm}/arm  looks=${s.maxPerArm / s.batchPerArm}  seed=${s.seed}  τ²=default`,
      '',
      'Primary metric: always-valid mSPRT; promotion = decision in the improving direction',
      line('A/A, 1–5 ratings: promoted', rate(aa.promotions, aa.runs)),
      line('A/A, 1–5 ratings: decided "worse"', rate(aa.decidedWorse, aa.runs)),
      line(
        `A/B, N(0,1) vs N(0.3,1): promoted ≤ ${ab.budgetPerArm} users/arm`,
        rate(ab.promotedWithinBudget, ab.runs),
      ),
      line(`A/B, N(0,1) vs N(0.3,1): promoted ≤ ${s.maxPerArm} users/arm`, rate(ab.promotions, ab.runs)),
      line('A/B, N(0,1) vs N(0.3,1): median users/arm to decision', users(ab.medianUsersPerArm)),
      '',
      `Latency guardrail: lognormal, control mean ${LATENCY.controlMeanMs} ms, CV ${LATENCY.cv}, relative margin 10%,`,
      'one-sided always-valid breach test; stopped = breach at some look',
      line('treatment +30%: stopped', rate(breach.breaches, breach.runs)),
      line('treatment +30%: median users/arm to stop', users(breach.medianUsersPerArm)),
      line('treatment +10% (on the margin): stopped', rate(boundary.breaches, boundary.runs)),
      line('treatment equal: stopped', rate(equal.breaches, equal.runs)),
      '',
      'Holm across 3 treatment arms against one control, A/A, 1–5 ratings',
      line('family-wise error with Holm', rate(holm.familyWiseErrors, holm.runs)),
      line('any unadjusted p < α', rate(holm.unadjustedErrors, holm.runs)),
      '',
      `degenerate looks: ${[aa, ab, breach, boundary, equal, holm].reduce((sum, r) => sum + r.degenerateLooks, 0)}`,
    ].join('\n'),
  );
}

if (require.main === module) main();
