import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  allocationBucket,
  armForBucket,
  armRanges,
  bucketUser,
  type BucketingConfig,
  createBucketer,
  InvalidBucketingConfigError,
  InvalidUserIdError,
  isValidUserId,
  layerBucket,
  MAX_USER_ID_LENGTH,
  referenceBucket,
  SUPPORTED_HASH_VERSIONS,
  UnknownHashVersionError,
  validateUserId,
} from './index';

interface AssignmentsFixture {
  comment: string;
  userIds: string[];
  reference: Array<{
    seed: string;
    trafficSplit: number;
    weights: [number, number];
    rows: Array<['A' | 'B', number]>;
  }>;
  generalised: Array<{
    name: string;
    config: BucketingConfig;
    rows: Array<
      [number | null, 'hash' | 'layer' | 'not-in-allocation', number | null, number, number | null]
    >;
  }>;
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'assignments.json'), 'utf8'),
) as AssignmentsFixture;

/** The reference formula computed the slow, literal way: hex digest, first 8 chars, parseInt. */
function literalReferenceBucket(seed: string, userId: string): number {
  const hex = createHash('md5').update(`${seed}:${userId}`, 'utf8').digest('hex');
  return parseInt(hex.slice(0, 8), 16) / 0xffffffff;
}

function nextUp(x: number): number {
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(x);
  buf.writeBigUInt64BE(buf.readBigUInt64BE() + 1n);
  return buf.readDoubleBE();
}

function nextDown(x: number): number {
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(x);
  buf.writeBigUInt64BE(buf.readBigUInt64BE() - 1n);
  return buf.readDoubleBE();
}

describe('bucketing vs Python reference fixtures (assignments.json)', () => {
  it('covers ≥ 2,000 valid user ids of every required kind', () => {
    const ids = fixture.userIds;
    expect(ids.length).toBeGreaterThanOrEqual(2000);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((u) => isValidUserId(u))).toBe(true);
    for (const id of [
      'user_1',
      'usér_é',
      '用户42',
      '😀emoji',
      'tenant:42:user',
      '😀'.repeat(256),
      'nul\u0000byte',
    ]) {
      expect(ids).toContain(id);
    }
    expect(
      ids.some((u) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)),
    ).toBe(true);
    expect(ids.filter((u) => u.length === MAX_USER_ID_LENGTH).length).toBeGreaterThanOrEqual(5);
    expect(fixture.reference.map((r) => [r.seed, r.trafficSplit])).toEqual(
      expect.arrayContaining([
        ['summarizer_prompt', 0.5],
        ['exp-42', 0.2],
        ['ünïcode:seed', 0.73],
      ]),
    );
  });

  describe.each(fixture.reference.map((r) => [r.seed, r.trafficSplit, r] as const))(
    'reference ABExperiment(name=%j, traffic_split=%d)',
    (seed, split, ref) => {
      it('has a row per user and both arms', () => {
        expect(ref.rows).toHaveLength(fixture.userIds.length);
        expect(new Set(ref.rows.map((r) => r[0]))).toEqual(new Set(['A', 'B']));
        expect(ref.weights).toEqual([1 - split, split]);
      });

      it('referenceBucket equals the Python bucket exactly, for every user', () => {
        const mismatches: string[] = [];
        fixture.userIds.forEach((userId, i) => {
          const expected = ref.rows[i][1];
          const fast = referenceBucket(seed, userId);
          const literal = literalReferenceBucket(seed, userId);
          if (fast !== expected || literal !== expected) {
            mismatches.push(`${JSON.stringify(userId)}: py ${expected} fast ${fast} literal ${literal}`);
          }
        });
        expect(mismatches).toEqual([]);
      });

      it('bucketUser with weights [1 − s, s] and allocation 1 gives the reference arm and bucket, for every user', () => {
        const bucketer = createBucketer({ seed, hashVersion: 1, weights: ref.weights, trafficAllocation: 1 });
        const mismatches: string[] = [];
        fixture.userIds.forEach((userId, i) => {
          const [arm, bucket] = ref.rows[i];
          const result = bucketer(userId);
          const expectedIndex = arm === 'A' ? 0 : 1;
          if (result.armIndex !== expectedIndex || result.reason !== 'hash' || result.bucket !== bucket) {
            mismatches.push(
              `${JSON.stringify(userId)}: expected ${arm}/${bucket}, got ${JSON.stringify(result)}`,
            );
          }
        });
        expect(mismatches).toEqual([]);
      });
    },
  );

  describe.each(fixture.generalised.map((g) => [g.name, g] as const))(
    'generalised hashVersion 1: %s',
    (_name, g) => {
      it('matches arm, reason, arm bucket, allocation bucket and layer bucket for every user', () => {
        expect(g.rows).toHaveLength(fixture.userIds.length);
        const bucketer = createBucketer(g.config);
        const mismatches: string[] = [];
        fixture.userIds.forEach((userId, i) => {
          const [armIndex, reason, bucket, allocB, layerB] = g.rows[i];
          const result = bucketer(userId);
          const got = [
            result.armIndex,
            result.reason,
            result.reason === 'hash' ? result.bucket : null,
            allocationBucket(g.config.seed, userId),
            g.config.layer ? layerBucket(g.config.layer.name, userId) : null,
          ];
          const expected = [armIndex, reason, bucket, allocB, layerB];
          if (JSON.stringify(got) !== JSON.stringify(expected)) {
            mismatches.push(
              `${JSON.stringify(userId)}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`,
            );
          }
        });
        expect(mismatches).toEqual([]);
      });

      it('exercises every outcome the config allows', () => {
        const reasons = new Set(g.rows.map((r) => r[1]));
        expect(reasons.has('hash')).toBe(true);
        expect(reasons.has('layer')).toBe(g.config.layer !== undefined);
        expect(reasons.has('not-in-allocation')).toBe(g.config.trafficAllocation < 1);
        const arms = new Set(g.rows.filter((r) => r[0] !== null).map((r) => r[0]));
        expect(arms).toEqual(new Set(g.config.weights.flatMap((w, i) => (w > 0 ? [i] : []))));
      });
    },
  );
});

describe('referenceBucket / allocationBucket / layerBucket', () => {
  it('hash UTF-8 and differ from each other (independent hashes)', () => {
    expect(referenceBucket('s', 'é')).toBe(literalReferenceBucket('s', 'é'));
    expect(referenceBucket('s', 'é')).not.toBe(referenceBucket('s', 'e\u0301'));
    const u = 'user_1';
    const values = [referenceBucket('s', u), allocationBucket('s', u), layerBucket('s', u)];
    expect(new Set(values).size).toBe(3);
    expect(allocationBucket('s', u)).toBe(literalReferenceBucket('s:allocation', u));
    expect(layerBucket('L', u)).toBe(literalReferenceBucket('L:layer', u));
  });

  it('equal the Buffer fast path readUInt32BE(0) / 0xFFFFFFFF, including high-bit digests', () => {
    let highBit = 0;
    for (let i = 0; i < 5000; i++) {
      const u = `fast-path-${i}`;
      const viaBuffer = createHash('md5').update(`seed:${u}`, 'utf8').digest().readUInt32BE(0);
      if (viaBuffer >= 0x80000000) highBit++;
      expect(referenceBucket('seed', u)).toBe(viaBuffer / 0xffffffff);
    }
    expect(highBit).toBeGreaterThan(2000);
  });

  it('are in [0, 1]', () => {
    for (let i = 0; i < 2000; i++) {
      for (const b of [
        referenceBucket('x', `u${i}`),
        allocationBucket('x', `u${i}`),
        layerBucket('x', `u${i}`),
      ]) {
        expect(b >= 0 && b <= 1).toBe(true);
      }
    }
  });
});

describe('armRanges', () => {
  it('lays ranges out from the last arm, first arm closed at 1', () => {
    expect(armRanges([0.5, 0.5])).toEqual([
      [0.5, 1],
      [0, 0.5],
    ]);
    expect(armRanges([0.2, 0.3, 0.5])).toEqual([
      [0.8, 1],
      [0.5, 0.8],
      [0, 0.5],
    ]);
    expect(armRanges([1, 1, 2])).toEqual([
      [0.75, 1],
      [0.5, 0.75],
      [0, 0.5],
    ]);
    expect(armRanges([3])).toEqual([[0, 1]]);
  });

  it('gives zero-weight arms empty ranges', () => {
    expect(armRanges([0, 1, 0, 1])).toEqual([
      [1, 1],
      [0.5, 1],
      [0.5, 0.5],
      [0, 0.5],
    ]);
    expect(armRanges([1, 0])).toEqual([
      [0, 1],
      [0, 0],
    ]);
  });

  it('two arms [1 − s, s]: B = [0, s) with boundary exactly s (no renormalisation drift)', () => {
    const splits = [0.73, 0.2, 0.1, 0.3, 0.7, 0.9, 1e-9, 0.999999];
    for (let i = 1; i < 1000; i++) splits.push(i / 1000);
    let seed = 12345;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      splits.push(seed / 2 ** 31);
    }
    for (const s of splits) {
      if (s === 0) continue;
      const ranges = armRanges([1 - s, s]);
      expect(ranges[1]).toEqual([0, s]);
      expect(ranges[0]).toEqual([s, 1]);
      // Reference: "B" if bucket < s else "A", at and around the boundary.
      for (const b of [nextDown(s), s, nextUp(s), 0, 1]) {
        expect(armForBucket(ranges, b)).toBe(b < s ? 1 : 0);
      }
    }
  });

  it('weights that sum to 1 up to rounding are used as-is (0.7 + 0.2 + 0.1 = 0.9999999999999999)', () => {
    expect(0.7 + 0.2 + 0.1).not.toBe(1);
    expect(armRanges([0.7, 0.2, 0.1])).toEqual([
      [0.1 + 0.2, 1],
      [0.1, 0.1 + 0.2],
      [0, 0.1],
    ]);
    // Other sums are normalised: percentages give the same boundaries as fractions summing to 1.
    expect(armRanges([20, 30, 50])).toEqual(armRanges([0.2, 0.3, 0.5]));
  });

  it('bucket 1.0 (md5 prefix ffffffff) goes to the first positive arm, as the reference gives A', () => {
    expect(armForBucket(armRanges([0.5, 0.5]), 1)).toBe(0);
    expect(armForBucket(armRanges([0.2, 0.3, 0.5]), 1)).toBe(0);
    expect(armForBucket(armRanges([0, 0.5, 0.5]), 1)).toBe(1);
    expect(armForBucket(armRanges([0.2, 0.3, 0.5]), 0)).toBe(2);
    expect(armForBucket(armRanges([0.2, 0.3, 0.5]), 0.5)).toBe(1);
    expect(armForBucket(armRanges([0.2, 0.3, 0.5]), nextDown(0.5))).toBe(2);
    expect(armForBucket(armRanges([0.2, 0.3, 0.5]), 0.8)).toBe(0);
    expect(armForBucket(armRanges([0, 1, 0, 1]), 0.5)).toBe(1);
  });

  it('never assigns a zero-weight arm', () => {
    const ranges = armRanges([0, 2, 0, 0, 1, 0]);
    for (let i = 0; i <= 1000; i++) {
      expect([1, 4]).toContain(armForBucket(ranges, i / 1000));
    }
  });

  it.each([
    ['empty', []],
    ['negative', [1, -0.1]],
    ['NaN', [Number.NaN, 1]],
    ['Infinity', [Number.POSITIVE_INFINITY, 1]],
    ['all zero', [0, 0]],
    ['positive weight too small for a range', [1, 1e-20, 1]],
  ])('rejects %s weights', (_name, weights) => {
    expect(() => armRanges(weights)).toThrow(InvalidBucketingConfigError);
  });
});

describe('bucketUser', () => {
  const base: BucketingConfig = { seed: 'exp', hashVersion: 1, weights: [0.5, 0.5], trafficAllocation: 1 };

  it('is deterministic and equals createBucketer', () => {
    const a = bucketUser(base, 'user_7');
    expect(bucketUser(base, 'user_7')).toEqual(a);
    expect(createBucketer(base)('user_7')).toEqual(a);
    expect(a).toEqual({
      armIndex: armForBucket(armRanges([0.5, 0.5]), referenceBucket('exp', 'user_7')),
      bucket: referenceBucket('exp', 'user_7'),
      reason: 'hash',
    });
  });

  it('the arm depends on the seed', () => {
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const a = users.map((u) => bucketUser(base, u).armIndex);
    const b = users.map((u) => bucketUser({ ...base, seed: 'exp2' }, u).armIndex);
    expect(a).not.toEqual(b);
  });

  it('allocation: strict < on the allocation bucket, and 1 includes everyone', () => {
    const u = 'user_3';
    const alloc = allocationBucket('exp', u);
    expect(bucketUser({ ...base, trafficAllocation: alloc }, u)).toEqual({
      armIndex: null,
      reason: 'not-in-allocation',
    });
    expect(bucketUser({ ...base, trafficAllocation: nextUp(alloc) }, u).reason).toBe('hash');
  });

  it('layer: start inclusive, end exclusive, checked before allocation', () => {
    const u = 'user_3';
    const lb = layerBucket('L', u);
    const inLayer = (range: [number, number]) =>
      bucketUser({ ...base, layer: { name: 'L', range } }, u).reason;
    expect(inLayer([lb, 1])).toBe('hash');
    expect(inLayer([0, lb])).toBe('layer');
    expect(inLayer([0, nextUp(lb)])).toBe('hash');
    expect(inLayer([nextUp(lb), 1])).toBe('layer');
    // Excluded by both layer and allocation: the layer wins.
    const tinyAllocation = allocationBucket('exp', u) / 2;
    expect(
      bucketUser({ ...base, trafficAllocation: tinyAllocation, layer: { name: 'L', range: [0, lb] } }, u)
        .reason,
    ).toBe('layer');
    expect(
      bucketUser({ ...base, trafficAllocation: tinyAllocation, layer: { name: 'L', range: [lb, 1] } }, u)
        .reason,
    ).toBe('not-in-allocation');
  });

  it('the arm bucket ignores allocation and layer (same arm for an included user)', () => {
    for (let i = 0; i < 500; i++) {
      const u = `user_${i}`;
      const full = bucketUser(base, u);
      const partial = bucketUser(
        { ...base, trafficAllocation: 0.5, layer: { name: 'L', range: [0.2, 0.9] } },
        u,
      );
      if (partial.armIndex !== null) expect(partial).toEqual(full);
    }
  });

  it('throws UnknownHashVersionError for an unknown hashVersion', () => {
    expect(SUPPORTED_HASH_VERSIONS).toEqual([1]);
    for (const hashVersion of [0, 2, 1.5, Number.NaN]) {
      try {
        bucketUser({ ...base, hashVersion }, 'u');
        throw new Error('expected UnknownHashVersionError');
      } catch (e) {
        expect(e).toBeInstanceOf(UnknownHashVersionError);
        expect((e as UnknownHashVersionError).code).toBe('UNKNOWN_HASH_VERSION');
      }
    }
    expect(() => bucketUser({ ...base, hashVersion: '1' as unknown as number }, 'u')).toThrow(
      UnknownHashVersionError,
    );
  });

  it.each([
    ['empty seed', { seed: '' }, 'seed'],
    ['non-string seed', { seed: 42 as unknown as string }, 'seed'],
    ['lone surrogate in seed', { seed: 'a\ud800' }, 'seed'],
    ['allocation 0', { trafficAllocation: 0 }, 'trafficAllocation'],
    ['allocation > 1', { trafficAllocation: 1.0000001 }, 'trafficAllocation'],
    ['allocation NaN', { trafficAllocation: Number.NaN }, 'trafficAllocation'],
    ['negative weight', { weights: [1, -1] }, 'weights[1]'],
    ['no weights', { weights: [] }, 'weights'],
    ['layer start = end', { layer: { name: 'L', range: [0.5, 0.5] as [number, number] } }, 'layer.range'],
    ['layer end > 1', { layer: { name: 'L', range: [0.5, 1.5] as [number, number] } }, 'layer.range'],
    ['layer start < 0', { layer: { name: 'L', range: [-0.1, 0.5] as [number, number] } }, 'layer.range'],
    ['layer without name', { layer: { name: '', range: [0, 0.5] as [number, number] } }, 'layer.name'],
  ])('rejects a config with %s', (_name, patch, field) => {
    try {
      createBucketer({ ...base, ...patch });
      throw new Error('expected InvalidBucketingConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidBucketingConfigError);
      expect((e as InvalidBucketingConfigError).field).toBe(field);
    }
  });

  it.each([
    ['empty', '', 'empty'],
    ['513 code units', 'x'.repeat(513), 'too-long'],
    ['257 emoji (514 code units)', '😀'.repeat(257), 'too-long'],
    ['lone surrogate', 'user\udc00', 'lone-surrogate'],
    ['non-string', 42 as unknown as string, 'not-a-string'],
  ])('rejects a %s user id', (_name, userId, reason) => {
    try {
      bucketUser(base, userId);
      throw new Error('expected InvalidUserIdError');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidUserIdError);
      expect((e as InvalidUserIdError).reason).toBe(reason);
    }
  });

  it('accepts user ids up to 512 UTF-16 code units', () => {
    expect(validateUserId('x'.repeat(512))).toBe('x'.repeat(512));
    expect(isValidUserId('😀'.repeat(256))).toBe(true);
    expect(isValidUserId(' ')).toBe(true);
    expect(bucketUser(base, '用'.repeat(512)).reason).toBe('hash');
  });
});
