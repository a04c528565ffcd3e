export {
  HashingError,
  CanonicalizationError,
  type CanonicalizationErrorReason,
  UnknownHashVersionError,
  InvalidBucketingConfigError,
  InvalidUserIdError,
  type InvalidUserIdReason,
} from './errors';
export { canonicalize, type CanonicalizeOptions } from './canonicalize';
export { promptHash, sha256Hex, SHORT_HASH_LENGTH, type PromptHash } from './prompt-hash';
export { MAX_USER_ID_LENGTH, userIdProblem, isValidUserId, validateUserId } from './user-id';
export * from './bucketing';
export * from './api-key';
