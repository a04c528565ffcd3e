import { mulberry32, runAaSimulation } from '../scripts/aa-simulation';
import {
  accumulateAlwaysValid,
  DEFAULT_STANDARDIZED_TAU,
  sequentialTest,
  sequentialTestProportions,
  type SequentialResult,
} from './sequential';
import { expectClose, expectNoNaN, expectPair, reference, unwrap } from '../test/support/tolerance';

describe('sequentialTest (mSPRT, normal mixture)', () => {
  it.each(reference.msprt)('$name matches the closed form', (c) => {
    const r = unwrap(
      sequentialTest(c.control, c.treatment, c.tauSquared === null ? {} : { tauSquared: c.tauSquared }),
    );
    expect(r.method).toBe('mSPRT-normal-mixture');
    expectClose(r.tauSquared, c.expectedTauSquared);
    expectClose(r.logLikelihoodRatio, c.logLikelihoodRatio);
    expectClose(r.pValue, c.pValue);
    expectPair(r.ci95, c.ci95);
  });

  it('uses τ = 0.1 pooled sd by default', () => {
    expect(DEFAULT_STANDARDIZED_TAU).toBe(0.1);
    const r = unwrap(sequentialTest({ n: 4, sum: 10, sumSq: 30 }, { n: 4, sum: 12, sumSq: 40 }));
    const vc = (30 - 100 / 4) / 3;
    const vt = (40 - 144 / 4) / 3;
    expectClose(r.tauSquared, 0.01 * ((vc + vt) / 2), 1e-14);
  });

  it('is consistent: the CI excludes 0 exactly when p < 0.05', () => {
    for (const c of reference.msprt) {
      const r = unwrap(sequentialTest(c.control, c.treatment));
      const excludes = r.ci95[0] > 0 || r.ci95[1] < 0;
      expect(excludes).toBe(r.pValue < 0.05);
    }
  });

  it('is wider than the fixed-horizon Welch interval (the price of peeking)', () => {
    const c = reference.welch.find((w) => w.name === 'ratings-medium');
    if (!c) throw new Error('fixture missing');
    const r = unwrap(sequentialTest(c.control, c.treatment));
    expect(r.ci95[1] - r.ci95[0]).toBeGreaterThan(c.ci95[1] - c.ci95[0]);
  });

  it('reports a p-value of 0, not NaN, when Λ overflows', () => {
    const r = unwrap(
      sequentialTest({ n: 10_000, sum: 10_000, sumSq: 20_000 }, { n: 10_000, sum: 30_000, sumSq: 100_000 }),
    );
    expect(r.pValue).toBe(0);
    expect(Number.isFinite(r.logLikelihoodRatio)).toBe(true);
    expectNoNaN(r);
  });

  it('handles proportions through their Bernoulli mean and variance', () => {
    const r = unwrap(sequentialTestProportions({ n: 5000, successes: 500 }, { n: 5000, successes: 600 }));
    const same = unwrap(sequentialTest({ n: 5000, sum: 500, sumSq: 500 }, { n: 5000, sum: 600, sumSq: 600 }));
    expect(r).toEqual(same);
    expect(r.pValue).toBeLessThan(0.05);
  });

  it.each([
    ['no-data', { n: 0, sum: 0, sumSq: 0 }, { n: 3, sum: 3, sumSq: 5 }, {}],
    ['n<2', { n: 1, sum: 1, sumSq: 1 }, { n: 3, sum: 3, sumSq: 5 }, {}],
    ['zero-variance', { n: 3, sum: 3, sumSq: 3 }, { n: 3, sum: 6, sumSq: 12 }, {}],
    ['invalid-input', { n: 3, sum: 3, sumSq: 5 }, { n: 3, sum: 3, sumSq: 5 }, { tauSquared: 0 }],
    ['invalid-input', { n: 3, sum: 3, sumSq: 5 }, { n: 3, sum: 3, sumSq: 5 }, { tauSquared: -1 }],
  ] as const)('%s', (reason, control, treatment, options) => {
    expect(sequentialTest(control, treatment, options)).toMatchObject({ ok: false, reason });
  });

  it('rejects proportions with more successes than trials', () => {
    expect(sequentialTestProportions({ n: 3, successes: 4 }, { n: 3, successes: 1 })).toMatchObject({
      ok: false,
      reason: 'invalid-input',
    });
    expect(sequentialTestProportions({ n: 10, successes: 0 }, { n: 10, successes: 0 })).toMatchObject({
      ok: false,
      reason: 'zero-variance',
    });
  });
});

describe('accumulateAlwaysValid', () => {
  const look = (pValue: number, ci95: [number, number]): SequentialResult => ({
    diff: (ci95[0] + ci95[1]) / 2,
    pValue,
    ci95,
    logLikelihoodRatio: -Math.log(pValue),
    tauSquared: 1,
    method: 'mSPRT-normal-mixture',
  });

  it('keeps the running minimum p-value and the running intersection of intervals', () => {
    let s = accumulateAlwaysValid(null, look(0.5, [-2, 3]));
    s = accumulateAlwaysValid(s, look(0.2, [-1, 4]));
    s = accumulateAlwaysValid(s, look(0.7, [-3, 2]));
    expect(s).toEqual({ looks: 3, pValue: 0.2, ci95: [-1, 2] });
  });

  it('keeps the newest interval if the intersection would be empty', () => {
    const s = accumulateAlwaysValid(accumulateAlwaysValid(null, look(0.5, [0, 1])), look(0.5, [2, 3]));
    expect(s.ci95).toEqual([2, 3]);
  });
});

describe('A/A simulation (small version of scripts/aa-simulation.ts)', () => {
  const alpha = 0.05;
  const runs = 200;
  // Peeking to 1,000 per arm (50 looks) rather than the script's 2,000 keeps the suite fast; jest's
  // sandbox runs this numeric loop far slower than plain node.
  // One-sided 99.9% binomial margin: a correct method fails this about once in a thousand seeds.
  const margin = 3.09 * Math.sqrt((alpha * (1 - alpha)) / runs);
  const result = runAaSimulation({ runs, batchPerArm: 20, maxPerArm: 1000, alpha, seed: 7, kind: 'ratings' });

  it('keeps the mSPRT false-positive rate at or below α under continuous peeking', () => {
    expect(result.looksPerRun).toBe(50);
    expect(result.sequentialRejections / runs).toBeLessThanOrEqual(alpha + margin);
    expect(result.degenerateLooks).toBe(0);
  });

  it('shows the inflation of naive peeking with the fixed-horizon Welch test', () => {
    expect(result.naivePeekingRejections / runs).toBeGreaterThan(alpha + margin);
  });

  it('detects a real effect (the test is not vacuous)', () => {
    const random = mulberry32(99);
    const normal = (mean: number) =>
      mean + Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    let control = { n: 0, sum: 0, sumSq: 0 };
    let treatment = { n: 0, sum: 0, sumSq: 0 };
    for (let i = 0; i < 2000; i++) {
      const x = normal(0);
      const y = normal(0.3);
      control = { n: control.n + 1, sum: control.sum + x, sumSq: control.sumSq + x * x };
      treatment = { n: treatment.n + 1, sum: treatment.sum + y, sumSq: treatment.sumSq + y * y };
    }
    expect(unwrap(sequentialTest(control, treatment)).pValue).toBeLessThan(alpha);
  });
});
