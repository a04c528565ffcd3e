/**
 * Typed errors of @llmops/hashing. Every error carries a stable `code` so callers (HTTP layers,
 * SDKs) can map them without matching on messages.
 */
export abstract class HashingError extends Error {
  abstract readonly code: string;

  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export type CanonicalizationErrorReason =
  | 'non-finite-number'
  | 'undefined-in-array'
  | 'function'
  | 'symbol'
  | 'bigint'
  | 'lone-surrogate'
  | 'unsupported-object'
  | 'symbol-key'
  | 'circular'
  | 'unsupported-type';

/**
 * The value cannot be represented as RFC 8785 (I-JSON) text. `path` points at the offending
 * value, e.g. `spec.params.temperature` or `spec.messages[2].content`.
 */
export class CanonicalizationError extends HashingError {
  readonly code = 'CANONICALIZATION_ERROR';

  constructor(
    readonly reason: CanonicalizationErrorReason,
    readonly path: string,
    detail: string,
  ) {
    super(`Cannot canonicalize ${path}: ${detail}`);
  }
}

/** An experiment asked for a bucketing hashVersion this build does not implement. */
export class UnknownHashVersionError extends HashingError {
  readonly code = 'UNKNOWN_HASH_VERSION';

  constructor(
    readonly hashVersion: unknown,
    readonly supported: readonly number[],
  ) {
    super(`Unknown bucketing hashVersion ${String(hashVersion)}; supported: ${supported.join(', ')}`);
  }
}

/** The bucketing configuration (seed, weights, allocation, layer) is invalid. */
export class InvalidBucketingConfigError extends HashingError {
  readonly code = 'INVALID_BUCKETING_CONFIG';

  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`Invalid bucketing config (${field}): ${detail}`);
  }
}

export type InvalidUserIdReason = 'not-a-string' | 'empty' | 'too-long' | 'lone-surrogate';

/** A user id cannot be bucketed (see validateUserId for the rules). */
export class InvalidUserIdError extends HashingError {
  readonly code = 'INVALID_USER_ID';

  constructor(
    readonly reason: InvalidUserIdReason,
    detail: string,
  ) {
    super(`Invalid userId: ${detail}`);
  }
}
