import { AppError, ConflictError, NotFoundError } from '@llmops/platform';

export class ExperimentNotFoundError extends NotFoundError {
  constructor(key: string) {
    super('experiment_not_found', `No experiment with key "${key}". Create it with POST /v1/experiments.`, {
      key,
    });
  }
}

export class ExperimentExistsError extends ConflictError {
  constructor(key: string) {
    super('experiment_exists', `An experiment with key "${key}" already exists; choose another key.`, {
      key,
    });
  }
}

/**
 * Arms, weights, control, seed, hashVersion and layer decide who gets which arm. Changing them
 * while users are assigned would silently move users between arms, so it needs a new phase.
 */
export class ImmutableWhileRunningError extends ConflictError {
  constructor(key: string, status: string, fields: string[]) {
    super(
      'immutable_while_running',
      `Cannot change ${fields.join(', ')} of experiment "${key}" while it is ${status}: that would move assigned users ` +
        `between arms. Start a new phase with POST /v1/experiments/${key}/phases (it takes a new seed) instead.`,
      { key, status, fields, newPhase: `POST /v1/experiments/${key}/phases` },
    );
  }
}

export class AllocationDecreaseError extends ConflictError {
  constructor(key: string, current: number, requested: number) {
    super(
      'allocation_decrease',
      `trafficAllocation of running experiment "${key}" can only be raised (${current} -> ${requested} would drop ` +
        `users who were already exposed). Start a new phase with POST /v1/experiments/${key}/phases to lower it.`,
      { key, current, requested, newPhase: `POST /v1/experiments/${key}/phases` },
    );
  }
}

export class InvalidTransitionError extends ConflictError {
  constructor(key: string, from: string, action: string, hint: string) {
    super('invalid_transition', `Cannot ${action} experiment "${key}" while it is ${from}. ${hint}`, {
      key,
      status: from,
      action,
    });
  }
}

export class ExperimentStoppedError extends ConflictError {
  constructor(key: string) {
    super(
      'experiment_stopped',
      `Experiment "${key}" is stopped and can no longer change. Create a new experiment instead.`,
      { key },
    );
  }
}

export class SeedReusedError extends ConflictError {
  constructor(key: string, seed: string) {
    super(
      'seed_reused',
      `A new phase of "${key}" needs a seed different from the current one ("${seed}"); otherwise users would keep ` +
        'their arms and the phase would not be independent.',
      { key, seed },
    );
  }
}

export class LayerOverlapError extends ConflictError {
  constructor(
    layer: string,
    range: readonly [number, number],
    others: Array<{ key: string; range: [number, number] }>,
  ) {
    super(
      'layer_overlap',
      `Range [${range[0]}, ${range[1]}) of layer "${layer}" overlaps ${others
        .map((o) => `"${o.key}" [${o.range[0]}, ${o.range[1]})`)
        .join(', ')}; experiments of one layer need disjoint ranges so that they never share a user.`,
      { layer, range, overlaps: others },
    );
  }
}

export class ConcurrentModificationError extends ConflictError {
  constructor(key: string) {
    super(
      'concurrent_modification',
      `Experiment "${key}" was changed concurrently several times; retry the request.`,
      {
        key,
      },
    );
  }
}

export interface UnresolvedArm {
  arm: string;
  prompt: string;
  ref: string;
}

export class UnknownPromptRefError extends AppError {
  constructor(unresolved: UnresolvedArm[]) {
    super(
      422,
      'unknown_prompt_ref',
      unresolved
        .map((u) => `arm "${u.arm}": prompt "${u.prompt}" has no version "${u.ref}" in the registry`)
        .join('; ') + '. Register the version first or fix the ref.',
      { arms: unresolved },
    );
  }
}

export class RegistryUnavailableError extends AppError {
  constructor(detail: string) {
    super(
      503,
      'registry_unavailable',
      `The prompt registry could not resolve prompt refs (${detail}); nothing was changed. Retry later.`,
      undefined,
      5,
    );
  }
}

export class InvalidExperimentError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(422, 'invalid_experiment', message, details);
  }
}
