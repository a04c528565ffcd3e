/**
 * Pure rules of the experiment lifecycle: what may change when, and the next snapshot. No I/O:
 * prompt refs arrive already resolved. Use cases call these and persist the result.
 */
import {
  DEFAULT_PROJECT,
  ExperimentSnapshotSchema,
  type ExperimentSnapshot,
  type ExperimentStatus,
} from '@llmops/contracts';
import { CompiledExperiment } from '@llmops/experiments';
import { canonicalize } from '@llmops/hashing';
import { assertMayPromote, type Principal, ValidationFailedError, zodIssues } from '@llmops/platform';
import { autoPromoteIssue } from './dto/arm-references';
import type { ArmInput } from './dto/experiment-fields';
import type { StartPhaseRequest } from './dto/start-phase.request';
import type { UpdateExperimentRequest } from './dto/update-experiment.request';
import {
  AllocationDecreaseError,
  ExperimentStoppedError,
  ImmutableWhileRunningError,
  InvalidExperimentError,
  InvalidTransitionError,
  SeedReusedError,
} from './experiments.errors';

export type Arm = ExperimentSnapshot['arms'][number];
export type Layer = NonNullable<ExperimentSnapshot['layer']>;

/** Fields that decide which user gets which arm: frozen once an experiment has started. */
export const ASSIGNMENT_FIELDS = ['arms', 'control', 'seed', 'hashVersion', 'layer'] as const;

export function armsEqual(current: readonly Arm[], requested: readonly ArmInput[]): boolean {
  return (
    current.length === requested.length &&
    current.every(
      (a, i) =>
        a.name === requested[i].name &&
        a.weight === requested[i].weight &&
        a.prompt.name === requested[i].prompt.name &&
        a.prompt.ref === requested[i].prompt.ref,
    )
  );
}

function layerEqual(a: Layer | undefined | null, b: Layer | undefined | null): boolean {
  if (!a || !b) return !a && !b;
  return a.name === b.name && a.range[0] === b.range[0] && a.range[1] === b.range[1];
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Names of the fields of `request` whose value differs from `current`. */
export function changedFields(current: ExperimentSnapshot, request: UpdateExperimentRequest): string[] {
  const changed: string[] = [];
  if (request.description !== undefined && request.description !== current.description)
    changed.push('description');
  if (request.arms !== undefined && !armsEqual(current.arms, request.arms)) changed.push('arms');
  if (request.control !== undefined && request.control !== current.control) changed.push('control');
  if (request.trafficAllocation !== undefined && request.trafficAllocation !== current.trafficAllocation) {
    changed.push('trafficAllocation');
  }
  if (request.seed !== undefined && request.seed !== current.seed) changed.push('seed');
  if (request.hashVersion !== undefined && request.hashVersion !== current.hashVersion)
    changed.push('hashVersion');
  if (request.layer !== undefined && !layerEqual(current.layer, request.layer)) changed.push('layer');
  if (request.targeting !== undefined && !jsonEqual(current.targeting, request.targeting))
    changed.push('targeting');
  if (request.forced !== undefined && !jsonEqual(current.forced, request.forced)) changed.push('forced');
  if (
    request.decision !== undefined &&
    canonicalize(current.decision ?? null) !== canonicalize(request.decision ?? null)
  )
    changed.push('decision');
  return changed;
}

/**
 * Throws when `changes` are not allowed in the current status: nothing changes once stopped;
 * after start (running or paused) the assignment fields are frozen and trafficAllocation may
 * only go up (ramping adds users; lowering would drop exposed users).
 */
export function assertUpdateAllowed(
  current: ExperimentSnapshot,
  request: UpdateExperimentRequest,
  changes: string[],
): void {
  if (current.status === 'stopped') throw new ExperimentStoppedError(current.key);
  if (current.status === 'draft') return;
  const locked = changes.filter((c) => (ASSIGNMENT_FIELDS as readonly string[]).includes(c));
  if (locked.length > 0) throw new ImmutableWhileRunningError(current.key, current.status, locked);
  if (request.trafficAllocation !== undefined && request.trafficAllocation < current.trafficAllocation) {
    throw new AllocationDecreaseError(current.key, current.trafficAllocation, request.trafficAllocation);
  }
}

/**
 * 400 `decision.autoPromote` when the policy moves an alias on a winner and the arms are not all
 * versions of one prompt (checked on create, on PATCH of either, and on a new phase's arms).
 */
export function assertAutoPromoteFits(
  decision: ExperimentSnapshot['decision'] | null,
  arms: ReadonlyArray<{ prompt: { name: string } }>,
): void {
  const issue = autoPromoteIssue(decision, arms);
  if (issue) throw new ValidationFailedError([issue]);
}

/**
 * 403 `forbidden` (the platform's `assertMayPromote`) unless the caller may move the alias that
 * `next`'s policy would move on a winner, when this write gives it that promotion: `autoPromote` is
 * new or names another alias, or the arms' prompt versions (the candidates) changed. A key without
 * `prompts:promote`, or limited to other aliases, would otherwise move an alias it may not move.
 * Writes that keep both (a description, weights, a new seed) or remove `autoPromote` need nothing.
 */
export function assertMayAutoPromote(
  principal: Principal,
  current: ExperimentSnapshot | undefined,
  next: ExperimentSnapshot,
): void {
  const alias = next.decision?.autoPromote?.alias;
  if (alias === undefined) return;
  const candidates = (s: ExperimentSnapshot) => [...new Set(s.arms.map((a) => a.prompt.hash))].sort().join();
  if (current?.decision?.autoPromote?.alias === alias && candidates(current) === candidates(next)) return;
  assertMayPromote(principal, alias);
}

export function resolvedArms(arms: readonly ArmInput[], hashes: readonly string[]): Arm[] {
  return arms.map((a, i) => ({
    name: a.name,
    weight: a.weight,
    prompt: { name: a.prompt.name, ref: a.prompt.ref, hash: hashes[i] },
  }));
}

/** The control after an arms change: kept if it still exists, else the first arm. */
function controlFor(
  arms: readonly Arm[],
  requested: string | undefined,
  current: string | undefined,
): string {
  if (requested !== undefined) return requested;
  if (current !== undefined && arms.some((a) => a.name === current)) return current;
  return arms[0].name;
}

/** Validates a snapshot against the published contract and the bucketing rules (422 if not). */
export function checkSnapshot(snapshot: ExperimentSnapshot): ExperimentSnapshot {
  const parsed = ExperimentSnapshotSchema.safeParse(snapshot);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new InvalidExperimentError(
      issues.map((i) => `${i.path || '(experiment)'}: ${i.message}`).join('; '),
      { issues },
    );
  }
  try {
    new CompiledExperiment(DEFAULT_PROJECT, parsed.data);
  } catch (err) {
    throw new InvalidExperimentError(err instanceof Error ? err.message : String(err));
  }
  return parsed.data;
}

function withOptional<K extends 'layer' | 'targeting' | 'forced' | 'decision'>(
  snapshot: ExperimentSnapshot,
  key: K,
  value: ExperimentSnapshot[K] | null | undefined,
): void {
  if (value === undefined) return;
  if (value === null) delete snapshot[key];
  else snapshot[key] = value;
}

export function applyUpdate(
  current: ExperimentSnapshot,
  request: UpdateExperimentRequest,
  arms: Arm[] | undefined,
  now: string,
): ExperimentSnapshot {
  const next: ExperimentSnapshot = { ...current, revision: current.revision + 1, updatedAt: now };
  if (request.description !== undefined) next.description = request.description;
  if (arms !== undefined) next.arms = arms;
  next.control = controlFor(next.arms, request.control, current.control);
  if (request.trafficAllocation !== undefined) next.trafficAllocation = request.trafficAllocation;
  if (request.seed !== undefined) next.seed = request.seed;
  if (request.hashVersion !== undefined) next.hashVersion = request.hashVersion;
  withOptional(next, 'layer', request.layer);
  withOptional(next, 'targeting', request.targeting);
  withOptional(next, 'forced', request.forced);
  withOptional(next, 'decision', request.decision);
  return checkSnapshot(next);
}

export type LifecycleAction = 'start' | 'pause' | 'stop';

const TARGET: Record<LifecycleAction, ExperimentStatus> = {
  start: 'running',
  pause: 'paused',
  stop: 'stopped',
};

/**
 * draft -> running <-> paused; any -> stopped (final). Repeating the current status is a no-op
 * (returns null), so retries are safe.
 */
export function applyTransition(
  current: ExperimentSnapshot,
  action: LifecycleAction,
  now: string,
): { next: ExperimentSnapshot; previousStatus: ExperimentStatus } | null {
  const target = TARGET[action];
  if (current.status === target) return null;
  if (current.status === 'stopped') {
    throw new InvalidTransitionError(
      current.key,
      current.status,
      action,
      'A stopped experiment is final; create a new one.',
    );
  }
  if (action === 'pause' && current.status === 'draft') {
    throw new InvalidTransitionError(
      current.key,
      current.status,
      action,
      'Only a running experiment can be paused.',
    );
  }
  return {
    next: { ...current, status: target, revision: current.revision + 1, updatedAt: now },
    previousStatus: current.status,
  };
}

export function defaultPhaseSeed(key: string, phase: number): string {
  // '#' cannot occur in experiment keys, so a default seed never equals another experiment's default.
  return `${key}#phase-${phase}`;
}

/** Only a started experiment gets a new phase, and it needs a seed different from the current one. */
export function assertPhaseAllowed(
  current: ExperimentSnapshot,
  request: StartPhaseRequest,
): { phase: number; seed: string } {
  if (current.status === 'stopped') throw new ExperimentStoppedError(current.key);
  if (current.status === 'draft') {
    throw new InvalidTransitionError(
      current.key,
      current.status,
      'start a new phase of',
      'A draft has no phase to close yet; change it with PATCH /v1/experiments/{key}.',
    );
  }
  const phase = current.phase + 1;
  const seed = request.seed ?? defaultPhaseSeed(current.key, phase);
  if (seed === current.seed) throw new SeedReusedError(current.key, seed);
  return { phase, seed };
}

/** The next snapshot of a new phase and the fields it changes (for the event's `changes`). */
export function applyPhase(
  current: ExperimentSnapshot,
  request: StartPhaseRequest,
  arms: Arm[] | undefined,
  now: string,
): { next: ExperimentSnapshot; changes: string[] } {
  const { phase, seed } = assertPhaseAllowed(current, request);
  const next: ExperimentSnapshot = {
    ...current,
    phase,
    seed,
    revision: current.revision + 1,
    updatedAt: now,
  };
  const changes = ['phase', 'seed'];
  if (arms !== undefined) {
    next.arms = arms;
    changes.push('arms');
  }
  next.control = controlFor(next.arms, request.control, current.control);
  if (next.control !== current.control) changes.push('control');
  if (request.hashVersion !== undefined && request.hashVersion !== current.hashVersion) {
    next.hashVersion = request.hashVersion;
    changes.push('hashVersion');
  }
  if (request.trafficAllocation !== undefined && request.trafficAllocation !== current.trafficAllocation) {
    next.trafficAllocation = request.trafficAllocation;
    changes.push('trafficAllocation');
  }
  if (request.layer !== undefined && !layerEqual(current.layer, request.layer)) {
    withOptional(next, 'layer', request.layer);
    changes.push('layer');
  }
  return { next: checkSnapshot(next), changes };
}

/** Other live experiments of the layer whose range overlaps `layer.range`. */
export function layerOverlaps(
  key: string,
  layer: Layer,
  others: readonly ExperimentSnapshot[],
): Array<{ key: string; range: [number, number] }> {
  const [start, end] = layer.range;
  const overlaps: Array<{ key: string; range: [number, number] }> = [];
  for (const o of others) {
    if (o.key === key || o.status === 'stopped' || o.layer?.name !== layer.name) continue;
    const [oStart, oEnd] = o.layer.range;
    if (oStart < end && start < oEnd) overlaps.push({ key: o.key, range: [oStart, oEnd] });
  }
  return overlaps;
}
