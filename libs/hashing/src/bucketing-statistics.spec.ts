import {
  allocationBucket,
  armForBucket,
  armRanges,
  type BucketingConfig,
  type BucketResult,
  createBucketer,
  referenceBucket,
} from './index';

/**
 * Critical value of the chi-square distribution with 2 degrees of freedom at p = 0.001:
 * 13.815510557964274 = scipy.stats.chi2.isf(0.001, 2) = −2·ln(0.001) (df = 2 is exponential),
 * matching the published table value 13.816. A statistic below it means p > 0.001.
 */
const CHI2_DF2_P001 = 13.815510557964274;

function pearsonChiSquare(counts: readonly number[], weights: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const total = weights.reduce((a, b) => a + b, 0);
  return counts.reduce((acc, observed, i) => {
    const expected = (n * weights[i]) / total;
    return acc + (observed - expected) ** 2 / expected;
  }, 0);
}

function armCounts(results: Iterable<BucketResult>, arms: number): number[] {
  const counts = new Array<number>(arms).fill(0);
  for (const r of results) if (r.armIndex !== null) counts[r.armIndex]++;
  return counts;
}

/** |observed − n·p| within 5 standard deviations of a binomial(n, p). */
function expectBinomialClose(observed: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p)).toBeLessThan(5 * sd);
}

const users = (n: number, prefix = 'user_') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const WEIGHTS = [0.2, 0.3, 0.5];

describe('bucketing statistics (hashVersion 1)', () => {
  it('the critical value is −2·ln(0.001), i.e. the chi-square(2) survival function is exp(−x/2)', () => {
    expect(CHI2_DF2_P001).toBeCloseTo(-2 * Math.log(0.001), 12);
  });

  it('balance: 100,000 users with weights 0.2/0.3/0.5 pass Pearson chi-square at p > 0.001', () => {
    const bucketer = createBucketer({
      seed: 'balance-check',
      hashVersion: 1,
      weights: WEIGHTS,
      trafficAllocation: 1,
    });
    const counts = armCounts(users(100_000).map(bucketer), 3);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(pearsonChiSquare(counts, WEIGHTS)).toBeLessThan(CHI2_DF2_P001);
  });

  it('the balance check can fail: the same counts against reversed weights are rejected', () => {
    const bucketer = createBucketer({
      seed: 'balance-check',
      hashVersion: 1,
      weights: WEIGHTS,
      trafficAllocation: 1,
    });
    const counts = armCounts(users(100_000).map(bucketer), 3);
    expect(pearsonChiSquare(counts, [0.5, 0.3, 0.2])).toBeGreaterThan(CHI2_DF2_P001);
  });

  it('ramping allocation 0.1 → 0.5 → 1.0 only adds users, never moves an included user, and stays balanced', () => {
    const ids = users(100_000, 'ramp-user-');
    const steps = [0.1, 0.5, 1.0];
    let previous: Array<number | null> | null = null;
    for (const trafficAllocation of steps) {
      const bucketer = createBucketer({
        seed: 'ramp-exp',
        hashVersion: 1,
        weights: WEIGHTS,
        trafficAllocation,
      });
      const results = ids.map(bucketer);
      const arms = results.map((r) => r.armIndex);
      if (previous) {
        let dropped = 0;
        let moved = 0;
        previous.forEach((arm, i) => {
          if (arm === null) return;
          if (arms[i] === null) dropped++;
          else if (arms[i] !== arm) moved++;
        });
        expect({ dropped, moved }).toEqual({ dropped: 0, moved: 0 });
      }
      const included = arms.filter((a) => a !== null).length;
      if (trafficAllocation === 1) expect(included).toBe(ids.length);
      else expectBinomialClose(included, ids.length, trafficAllocation);
      expect(pearsonChiSquare(armCounts(results, 3), WEIGHTS)).toBeLessThan(CHI2_DF2_P001);
      previous = arms;
    }
  });

  it('layers: experiments with ranges [0, 0.5) and [0.5, 1) never share a user and split ~half each', () => {
    const layer = 'checkout-layer';
    const left = createBucketer({
      seed: 'exp-left',
      hashVersion: 1,
      weights: [1, 1],
      trafficAllocation: 1,
      layer: { name: layer, range: [0, 0.5] },
    });
    const right = createBucketer({
      seed: 'exp-right',
      hashVersion: 1,
      weights: [1, 1],
      trafficAllocation: 1,
      layer: { name: layer, range: [0.5, 1] },
    });
    const ids = users(20_000, 'layer-user-');
    let inLeft = 0;
    let inRight = 0;
    let inBoth = 0;
    let inNeither = 0;
    const leftResults: BucketResult[] = [];
    for (const u of ids) {
      const l = left(u);
      const r = right(u);
      if (l.reason === 'hash') leftResults.push(l);
      inLeft += l.reason === 'hash' ? 1 : 0;
      inRight += r.reason === 'hash' ? 1 : 0;
      if (l.reason === 'hash' && r.reason === 'hash') inBoth++;
      if (l.reason !== 'hash' && r.reason !== 'hash') inNeither++;
      if (l.reason !== 'hash') expect(l.reason).toBe('layer');
    }
    expect(inBoth).toBe(0);
    expect(inNeither).toBe(0);
    expectBinomialClose(inLeft, ids.length, 0.5);
    expectBinomialClose(inRight, ids.length, 0.5);
    // The layer hash is independent of the arm hash: arms inside the half are still balanced.
    const counts = armCounts(leftResults, 2);
    expectBinomialClose(counts[1], leftResults.length, 0.5);
  });

  it('independence: among users in allocation 0.5 the arms are still balanced', () => {
    const bucketer = createBucketer({
      seed: 'indep-exp',
      hashVersion: 1,
      weights: WEIGHTS,
      trafficAllocation: 0.5,
    });
    const results = users(100_000, 'indep-').map(bucketer);
    const included = results.filter((r) => r.armIndex !== null).length;
    expectBinomialClose(included, 100_000, 0.5);
    expect(pearsonChiSquare(armCounts(results, 3), WEIGHTS)).toBeLessThan(CHI2_DF2_P001);
  });

  it('the independence check can fail: a shared allocation/arm hash is caught', () => {
    // A broken design reusing the arm hash for allocation: allocation 0.5 keeps buckets < 0.5,
    // which is exactly the last arm's range [0, 0.5).
    const ranges = armRanges(WEIGHTS);
    const counts = [0, 0, 0];
    for (const u of users(100_000, 'indep-')) {
      const b = referenceBucket('indep-exp', u);
      if (b < 0.5) counts[armForBucket(ranges, b)]++;
    }
    expect(pearsonChiSquare(counts, WEIGHTS)).toBeGreaterThan(CHI2_DF2_P001);
    // …while the real allocation hash differs from the arm hash.
    expect(allocationBucket('indep-exp', 'indep-1')).not.toBe(referenceBucket('indep-exp', 'indep-1'));
  });

  it('the ramp check can fail: a design whose arm hash depends on the allocation would move users', () => {
    // Counter-example: hashing the allocation into the seed moves included users between steps.
    const ids = users(2_000, 'ramp-user-');
    const armAt = (allocation: number, u: string) =>
      armForBucket(armRanges(WEIGHTS), referenceBucket(`ramp-exp@${allocation}`, u));
    const moved = ids.filter((u) => armAt(0.1, u) !== armAt(0.5, u)).length;
    expect(moved).toBeGreaterThan(0);
  });

  it('different configs of the same experiment (weights fixed) agree for users they both include', () => {
    const config: BucketingConfig = { seed: 'agree', hashVersion: 1, weights: WEIGHTS, trafficAllocation: 1 };
    const full = createBucketer(config);
    const layered = createBucketer({
      ...config,
      trafficAllocation: 0.3,
      layer: { name: 'L', range: [0.1, 0.6] },
    });
    for (const u of users(20_000)) {
      const r = layered(u);
      if (r.armIndex !== null) expect(r).toEqual(full(u));
    }
  });
});
