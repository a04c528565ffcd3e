import { InvalidBucketingConfigError } from '../errors';
import type { ArmRange } from './types';

/** Sums within this distance of 1 are treated as exactly 1 (no division); see armRanges. */
export const WEIGHT_SUM_TOLERANCE = 1e-9;

/**
 * Ranges of the arm bucket (in [0, 1]) owned by each arm, for non-negative `weights`
 * normalised by their sum.
 *
 * Layout: ranges are laid out from the LAST arm backward, starting at 0, and the range of the
 * first arm with a positive weight (normally arm 0, the control) ends at 1 INCLUSIVE. For
 * two arms [A: 1 − s, B: s] this gives B = [0, s) and A = [s, 1]. Why:
 *  - It reproduces the reference design exactly: `"B" if bucket < traffic_split else "A"`,
 *    including bucket === 1.0 (md5 prefix ffffffff), which the reference gives to A.
 *  - The arm of a user depends only on the arm hash md5(seed:userId) and the weights; traffic
 *    allocation and layers use independent hashes, so ramping them never moves a user.
 *
 * Numerics: when the weights already sum to 1 up to rounding (within WEIGHT_SUM_TOLERANCE, e.g.
 * 0.7 + 0.2 + 0.1 = 0.9999999999999999) they are used as-is, so boundaries are the literal
 * weights (0.1, not 0.1 / 0.9999999999999999) and SDKs comparing `bucket < weight` agree; for two
 * arms [1 − s, s] the boundary is exactly `s`, as in the reference.
 * Cumulative sums are accumulated from the last arm; the first positive arm's end is forced to 1.
 * Zero-weight arms get empty ranges [x, x] (arms before the first positive arm get [1, 1]) and
 * never receive users; that also applies to the reference's edge case traffic_split = 1.0 with
 * bucket 1.0 (the reference says A; weights [0, 1] say B, since A has weight 0).
 * A positive weight too small to get a non-empty range in double precision is rejected.
 */
export function armRanges(weights: readonly number[]): ArmRange[] {
  if (!Array.isArray(weights) || weights.length === 0) {
    throw new InvalidBucketingConfigError('weights', 'must be a non-empty array');
  }
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new InvalidBucketingConfigError(`weights[${i}]`, `must be a finite number ≥ 0, got ${String(w)}`);
    }
    sum += w;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) {
    throw new InvalidBucketingConfigError('weights', 'must have a positive, finite sum');
  }
  const scale = Math.abs(sum - 1) <= WEIGHT_SUM_TOLERANCE ? 1 : sum;
  const ranges: ArmRange[] = new Array<ArmRange>(weights.length);
  let cumulative = 0;
  for (let i = weights.length - 1; i >= 0; i--) {
    const start = cumulative;
    const w = weights[i];
    if (w > 0) cumulative = cumulative + w / scale;
    ranges[i] = [start, cumulative];
  }
  const top = weights.findIndex((w) => w > 0);
  ranges[top] = [ranges[top][0], 1];
  for (let i = 0; i < top; i++) ranges[i] = [1, 1];
  for (let i = 0; i < weights.length; i++) {
    const [start, end] = ranges[i];
    if (weights[i] > 0 && !(start < end)) {
      throw new InvalidBucketingConfigError(
        `weights[${i}]`,
        `weight ${weights[i]} is too small relative to the sum ${sum} to get a non-empty range`,
      );
    }
  }
  return ranges;
}

/**
 * The arm owning `bucket` (in [0, 1]) given ranges from armRanges. Scans from the last arm
 * (whose range starts at 0); a bucket not below any end (i.e. exactly 1.0) belongs to the
 * first arm with a non-empty range, whose range is closed at 1.
 */
export function armForBucket(ranges: readonly ArmRange[], bucket: number): number {
  for (let i = ranges.length - 1; i >= 0; i--) {
    if (bucket < ranges[i][1]) return i;
  }
  return closedArm(ranges);
}

function closedArm(ranges: readonly ArmRange[]): number {
  for (let i = 0; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i][1]) return i;
  }
  throw new InvalidBucketingConfigError('weights', 'no arm has a non-empty range');
}
