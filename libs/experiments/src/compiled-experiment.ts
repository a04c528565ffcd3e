/**
 * An experiment prepared for the assignment hot path: the bucketer (arm ranges precomputed),
 * the forced-user map, the targeting predicate and one frozen response object per outcome, so
 * an assignment allocates nothing but the md5 digest.
 */
import type { ExperimentSnapshot } from '@llmops/contracts';
import { createBucketer, type Bucketer } from '@llmops/hashing';
import { type Attributes, compileTargeting, type TargetingPredicate } from './targeting';

export const ASSIGN_REASONS = [
  'hash',
  'forced',
  'not-in-allocation',
  'targeting',
  'layer',
  'not-running',
] as const;
export type AssignReason = (typeof ASSIGN_REASONS)[number];

export interface AssignResponse {
  experiment: string;
  arm: string;
  prompt: { name: string; hash: string };
  inExperiment: boolean;
  reason: AssignReason;
  phase: number;
}

export interface CompiledArm {
  name: string;
  prompt: { name: string; hash: string };
}

/** The response, and for users in the experiment the arm they were exposed to. */
export interface Assignment {
  response: AssignResponse;
  /** Set iff `response.inExperiment`: the exposure to publish. */
  exposed?: CompiledArm;
}

/** Counts assignments per (arm, reason); children are bound once per experiment compile. */
export type AssignmentCounter = (
  project: string,
  experiment: string,
  arm: string,
  reason: AssignReason,
) => { inc(): void };

const NOOP = { inc: () => undefined };

interface Outcome {
  assignment: Assignment;
  counter: { inc(): void };
}

export class CompiledExperiment {
  readonly key: string;
  readonly revision: number;
  readonly running: boolean;
  private readonly bucketer: Bucketer;
  private readonly forced: Map<string, number>;
  private readonly targeting: TargetingPredicate;
  private readonly byHash: Outcome[];
  private readonly byForce: Outcome[];
  private readonly control: Record<Exclude<AssignReason, 'hash' | 'forced'>, Outcome>;

  /** Throws the hashing lib's errors when the snapshot cannot be bucketed (e.g. unknown hashVersion). */
  constructor(
    readonly project: string,
    readonly snapshot: Readonly<ExperimentSnapshot>,
    counter?: AssignmentCounter,
  ) {
    this.key = snapshot.key;
    this.revision = snapshot.revision;
    this.running = snapshot.status === 'running';
    this.bucketer = createBucketer({
      seed: snapshot.seed,
      hashVersion: snapshot.hashVersion,
      // Arm order is the order given at creation, NOT control-first: with arms [A, B] that is the
      // reference layout (B owns [0, s), A owns [s, 1]).
      weights: snapshot.arms.map((a) => a.weight),
      trafficAllocation: snapshot.trafficAllocation,
      layer: snapshot.layer,
    });
    const arms: CompiledArm[] = snapshot.arms.map((a) =>
      Object.freeze({ name: a.name, prompt: Object.freeze({ name: a.prompt.name, hash: a.prompt.hash }) }),
    );
    const index = new Map(arms.map((a, i) => [a.name, i]));
    const outcome = (arm: CompiledArm, reason: AssignReason, inExperiment: boolean): Outcome => ({
      assignment: Object.freeze({
        response: Object.freeze({
          experiment: snapshot.key,
          arm: arm.name,
          prompt: arm.prompt,
          inExperiment,
          reason,
          phase: snapshot.phase,
        }),
        ...(inExperiment ? { exposed: arm } : {}),
      }),
      counter: counter?.(project, snapshot.key, arm.name, reason) ?? NOOP,
    });
    this.byHash = arms.map((a) => outcome(a, 'hash', true));
    this.byForce = arms.map((a) => outcome(a, 'forced', true));
    const controlArm = arms[index.get(snapshot.control) ?? 0];
    this.control = {
      'not-in-allocation': outcome(controlArm, 'not-in-allocation', false),
      targeting: outcome(controlArm, 'targeting', false),
      layer: outcome(controlArm, 'layer', false),
      'not-running': outcome(controlArm, 'not-running', false),
    };
    this.forced = new Map();
    for (const [user, arm] of Object.entries(snapshot.forced ?? {})) {
      const i = index.get(arm);
      if (i !== undefined) this.forced.set(user, i);
    }
    this.targeting = compileTargeting(snapshot.targeting);
  }

  /**
   * Order of the rules: lifecycle, then forced users (QA sees its arm even outside targeting,
   * layer and allocation), then targeting, then the hashing lib (layer, allocation, arm).
   * `userId` must have been validated (non-empty, <= 512 UTF-16 units, no lone surrogates).
   */
  assign(userId: string, attributes?: Attributes): Assignment {
    let o: Outcome;
    if (!this.running) o = this.control['not-running'];
    else {
      const forced = this.forced.get(userId);
      if (forced !== undefined) o = this.byForce[forced];
      else if (!this.targeting(attributes)) o = this.control.targeting;
      else {
        const r = this.bucketer(userId);
        o = r.armIndex === null ? this.control[r.reason] : this.byHash[r.armIndex];
      }
    }
    o.counter.inc();
    return o.assignment;
  }
}
