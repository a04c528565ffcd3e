import { InvalidBucketingConfigError, UnknownHashVersionError } from '../errors';
import type { Bucketer, BucketingAlgorithm, BucketingConfig, BucketResult } from './types';
import { hashVersion1 } from './v1';

/** Registered algorithms. To add hashVersion 2: new module `v2.ts`, one line here. */
const ALGORITHMS: ReadonlyMap<number, BucketingAlgorithm> = new Map([
  [hashVersion1.hashVersion, hashVersion1],
]);

export const SUPPORTED_HASH_VERSIONS: readonly number[] = Object.freeze([...ALGORITHMS.keys()]);

export function bucketingAlgorithm(hashVersion: number): BucketingAlgorithm {
  const algorithm = ALGORITHMS.get(hashVersion);
  if (!algorithm) throw new UnknownHashVersionError(hashVersion, SUPPORTED_HASH_VERSIONS);
  return algorithm;
}

/**
 * Validates `config` once and returns a function assigning users. Prefer this over bucketUser
 * on hot paths (it precomputes the arm ranges).
 * Throws UnknownHashVersionError / InvalidBucketingConfigError; the returned function throws
 * InvalidUserIdError.
 */
export function createBucketer(config: BucketingConfig): Bucketer {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidBucketingConfigError('config', 'must be an object');
  }
  return bucketingAlgorithm(config.hashVersion).compile(config);
}

/**
 * Deterministic assignment of `userId` to an arm of the experiment described by `config`:
 * layer check first, then traffic allocation, then the arm hash.
 */
export function bucketUser(config: BucketingConfig, userId: string): BucketResult {
  return createBucketer(config)(userId);
}

export { armForBucket, armRanges, WEIGHT_SUM_TOLERANCE } from './arm-ranges';
export { allocationBucket, layerBucket, referenceBucket } from './v1';
export type {
  ArmRange,
  Bucketer,
  BucketingAlgorithm,
  BucketingConfig,
  BucketResult,
  LayerConfig,
} from './types';
