import { mongo } from 'mongoose';
import { type Bucket, type BucketValues, emptyBucket, newSketch } from '../domain/bucket';
import type { StoredBucket } from './analytics.schemas';
import { bucketOf, fromStored, toStored, versionId } from './bucket-store';

/** Every field of `BucketValues`, the optional ones included, with values JSON text must keep exactly. */
function fullBucket(): Bucket {
  const b = emptyBucket('proj', 'exp "1"', 'arm\u2028b', 29_000_000, 'f', 3, 'h');
  const latency = newSketch();
  for (const ms of [0, 1e-300, 0.5, 12, 12, 250, 9_999, 7.5e12]) latency.accept(ms);
  const values: Required<BucketValues> = {
    exposures: Number.MAX_SAFE_INTEGER,
    generations: 17,
    costSum: 0.1 + 0.2,
    promptTokens: 2 ** 53 - 1,
    completionTokens: 1e-300,
    rating: { n: 3, sum: 1e-300, sumSq: 1.7976931348623157e308 },
    thumbsUp: 5,
    thumbsDown: -2,
    scores: {
      ok: { n: 1, sum: -1e-300, sumSq: 1e-300 },
      'tone%2Efriendly': { n: 2, sum: 3.3, sumSq: 5.45 },
      'say "hi"\\': { n: 1, sum: 2, sumSq: 4 },
      'line\u2028sep\u2029end': { n: 4, sum: 0, sumSq: 0 },
      constructor: { n: 6, sum: 7, sumSq: 9 },
      toString: { n: 1, sum: 1, sumSq: 1 },
      valueOf: { n: 0, sum: 0, sumSq: 0 },
      hasOwnProperty: { n: 2, sum: 2 ** 53 - 1, sumSq: 1e-300 },
    },
    comments: 1,
    corrections: 0,
    latencyMoments: { n: 8, sum: 7.5e12 + 10_273.5, sumSq: 5.625e25 },
    costMoments: { n: 2, sum: 0.30000000000000004, sumSq: 1e-300 },
    droppedScores: 3,
    droppedScoreNames: ['x%2Ey', 'q"\u2028', 'constructor'],
  };
  return { ...b, ...values, lastOffset: 2 ** 53 - 1, latency };
}

const protoOf = (b: Bucket): Buffer | null => (b.latency ? Buffer.from(b.latency.toProto()) : null);

/** A bucket read back equals the one written, the latency sketch compared by its encoding. */
function expectSameBucket(actual: Bucket, expected: Bucket): void {
  expect({ ...actual, latency: null }).toEqual({ ...expected, latency: null });
  expect(protoOf(actual)).toEqual(protoOf(expected));
  // The same bins; the sketch library rebuilds its mapping from the encoded gamma, which moves a
  // quantile in the 13th digit, far inside the sketch's 1% accuracy.
  for (const q of [0, 0.5, 0.99, 1]) {
    const [a, e] = [actual.latency?.getValueAtQuantile(q), expected.latency?.getValueAtQuantile(q)];
    expect(Math.abs((a ?? NaN) - (e ?? NaN))).toBeLessThanOrEqual(Math.abs(e ?? 0) * 1e-12);
  }
  expect(actual.latency?.count).toBe(expected.latency?.count);
}

describe('bucket-store toStored / fromStored', () => {
  it('round-trips every field of a bucket exactly', () => {
    const bucket = fullBucket();
    const stored = toStored(bucket, 41);
    expect(stored._id).toBe(versionId(bucket._id, 41));
    expect(bucketOf(stored)).toBe(bucket._id);
    expect(stored).toMatchObject({ previousLastOffset: 41, res: 'h', lastOffset: 2 ** 53 - 1 });
    // Only the identity, span and guard are fields; the summaries are one JSON text.
    expect(stored.exposures).toBeUndefined();
    expect(stored.scores).toBeUndefined();
    expectSameBucket(fromStored(stored), bucket);
    // Score names are own properties after the read, whatever they are named.
    const scores = fromStored(stored).scores;
    expect(Object.keys(scores).sort()).toEqual(Object.keys(bucket.scores).sort());
    expect(Object.hasOwn(scores, 'constructor') && Object.hasOwn(scores, 'toString')).toBe(true);
  });

  it('round-trips an empty bucket, without roll-up resolution or latency, as it was', () => {
    const { res: _res, ...bucket } = emptyBucket('default', 'e', 'a', 12, 'x', 0);
    const stored = toStored(bucket, -1);
    expect('res' in stored).toBe(false);
    const back = fromStored(stored);
    expect(back).toEqual(bucket);
    expect('latencyMoments' in back || 'droppedScores' in back || 'droppedScoreNames' in back).toBe(false);
  });

  it('reads a document stored before `values` (each summary a field, no version) the same', () => {
    const bucket = fullBucket();
    const { latency, ...fields } = bucket;
    const legacy: StoredBucket = {
      ...fields,
      latency: latency ? new mongo.Binary(Buffer.from(latency.toProto())) : null,
    };
    expect(bucketOf(legacy)).toBe(bucket._id);
    expectSameBucket(fromStored(legacy), bucket);
    expectSameBucket(fromStored(legacy), fromStored(toStored(bucket, 7)));
  });
});
