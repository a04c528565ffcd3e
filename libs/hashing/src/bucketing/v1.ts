import { hash as oneShotHash } from 'node:crypto';
import { validateUserId } from '../user-id';
import { armForBucket, armRanges } from './arm-ranges';
import type { BucketingAlgorithm, BucketingConfig, BucketResult } from './types';
import { assertCommonConfig } from './validate';

// hashVersion 1. FROZEN: users' assignments depend on every detail below (separators, MD5,
// the first 32 bits, the divisor 0xFFFFFFFF, the range layout). Add a new version instead.

const MAX_UINT32 = 0xffffffff;

/** First 32 bits (big-endian) of MD5(UTF-8 of `input`), divided by 0xFFFFFFFF: in [0, 1]. */
function md5Unit(input: string): number {
  // One-shot hash (no Hash object). The digest comes back as a 16-char 'binary' (latin1)
  // string, one char per byte, not as a Buffer: on Node 20 that is faster than the
  // 'buffer' output and allocates no Buffer. The value is identical
  // to hash('md5', input, 'buffer').readUInt32BE(0) and to parseInt(hexDigest.slice(0, 8), 16).
  const d = oneShotHash('md5', input, 'binary');
  const u32 =
    ((d.charCodeAt(0) << 24) | (d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3)) >>> 0;
  return u32 / MAX_UINT32;
}

/**
 * The reference design's bucket: int(md5_hex(f"{seed}:{userId}")[:8], 16) / 0xFFFFFFFF, with
 * UTF-8 encoding. In [0, 1]; exactly 1.0 iff the digest starts with ffffffff.
 * Raw primitive: does not validate (a lone surrogate would be hashed as U+FFFD by Node where
 * Python raises); bucketUser validates.
 */
export function referenceBucket(seed: string, userId: string): number {
  return md5Unit(`${seed}:${userId}`);
}

/** Independent hash deciding "is this user in the experiment": md5(`${seed}:allocation:${userId}`). */
export function allocationBucket(seed: string, userId: string): number {
  return md5Unit(`${seed}:allocation:${userId}`);
}

/** Hash shared by all experiments of a layer: md5(`${layerName}:layer:${userId}`). */
export function layerBucket(layerName: string, userId: string): number {
  return md5Unit(`${layerName}:layer:${userId}`);
}

const LAYER_EXCLUDED: BucketResult = Object.freeze({ armIndex: null, reason: 'layer' });
const NOT_IN_ALLOCATION: BucketResult = Object.freeze({ armIndex: null, reason: 'not-in-allocation' });

export const hashVersion1: BucketingAlgorithm = {
  hashVersion: 1,
  compile(config: BucketingConfig) {
    assertCommonConfig(config);
    const ranges = armRanges(config.weights);
    const { seed, trafficAllocation, layer } = config;
    const layerName = layer?.name;
    const layerStart = layer?.range[0] ?? 0;
    const layerEnd = layer?.range[1] ?? 1;
    return (userId: string): BucketResult => {
      validateUserId(userId);
      // 1. Layer: start ≤ b < end; a range ending at 1 is closed (includes b = 1.0).
      if (layerName !== undefined) {
        const b = layerBucket(layerName, userId);
        if (b < layerStart || (b >= layerEnd && layerEnd !== 1)) return LAYER_EXCLUDED;
      }
      // 2. Allocation: independent hash; allocation 1 includes everyone (even b = 1.0).
      if (trafficAllocation !== 1 && !(allocationBucket(seed, userId) < trafficAllocation)) {
        return NOT_IN_ALLOCATION;
      }
      // 3. Arm: the reference hash.
      const bucket = referenceBucket(seed, userId);
      return { armIndex: armForBucket(ranges, bucket), bucket, reason: 'hash' };
    };
  },
};
