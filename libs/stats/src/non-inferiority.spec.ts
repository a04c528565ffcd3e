import { logNormalCdf } from './normal';
import { nonInferiorityTest, type GuardrailMargin } from './non-inferiority';
import { sequentialTest } from './sequential';
import type { MeanStats } from './sufficient-stats';
import { decisionReference, expectClose, expectNoNaN, unwrap } from '../test/support/tolerance';

describe('logNormalCdf', () => {
  it.each(decisionReference.logNormalCdf)('ln Φ($x) matches scipy.special.log_ndtr to 1e-12', (c) => {
    expectClose(logNormalCdf(c.x), c.value, 1e-12);
  });
});

describe('nonInferiorityTest (one-sided always-valid guardrail tests)', () => {
  it.each(decisionReference.guardrail)('$name matches the scipy references', (c) => {
    const r = unwrap(
      nonInferiorityTest(c.control, c.treatment, c.margin as GuardrailMargin, {
        alpha: c.alpha,
        ...(c.tauSquared === null ? {} : { tauSquared: c.tauSquared }),
      }),
    );
    const e = c.expected;
    expect(r.scale).toBe(e.scale);
    expect(r.worse).toBe(e.worse);
    expect(r.method).toBe('mSPRT-one-sided-normal-mixture');
    for (const key of [
      'diff',
      'relativeChange',
      'estimate',
      'margin',
      'standardError',
      'tauSquared',
    ] as const) {
      expectClose(r[key] as number, e[key]);
    }
    expectClose(r.breachLogLikelihoodRatio, e.breachLogLikelihoodRatio);
    expectClose(r.breachPValue, e.breachPValue);
    expectClose(r.nonInferiorityLogLikelihoodRatio, e.nonInferiorityLogLikelihoodRatio);
    expectClose(r.nonInferiorityPValue, e.nonInferiorityPValue);
    const f = e.fixedHorizon;
    expect(r.fixedHorizon.alpha).toBe(f.alpha);
    expectClose(r.fixedHorizon.z, f.z);
    expectClose(r.fixedHorizon.breachPValue, f.breachPValue);
    expectClose(r.fixedHorizon.nonInferiorityPValue, f.nonInferiorityPValue);
    expectClose(r.fixedHorizon.lowerBound, f.lowerBound);
    expectClose(r.fixedHorizon.upperBound, f.upperBound);
  });

  const cases = decisionReference.guardrail.filter((c) => c.tauSquared === null && c.alpha === 0.05);
  const control = (name: string): { control: MeanStats; treatment: MeanStats } => {
    const c = cases.find((x) => x.name.startsWith(name));
    if (!c) throw new Error(`fixture ${name} missing`);
    return c;
  };

  it('with margin 0 is the one-sided version of the two-sided mSPRT: Λ⁺ = 2Φ(w)·Λ, so p₂/2 ≤ p⁺ ≤ p₂ when diff ≥ 0', () => {
    for (const c of cases) {
      const seq = unwrap(sequentialTest(c.control, c.treatment));
      const r = unwrap(nonInferiorityTest(c.control, c.treatment, { maxAbsoluteIncrease: 0 }));
      expectClose(r.tauSquared, seq.tauSquared, 1e-14);
      const v = r.standardError ** 2;
      const w = (r.estimate * Math.sqrt(r.tauSquared)) / Math.sqrt(v * (v + r.tauSquared));
      expectClose(r.breachLogLikelihoodRatio - seq.logLikelihoodRatio, Math.LN2 + logNormalCdf(w), 1e-9);
      expectClose(
        r.nonInferiorityLogLikelihoodRatio - seq.logLikelihoodRatio,
        Math.LN2 + logNormalCdf(-w),
        1e-9,
      );
      const [onSide, otherSide] =
        r.diff >= 0 ? [r.breachPValue, r.nonInferiorityPValue] : [r.nonInferiorityPValue, r.breachPValue];
      expect(onSide).toBeGreaterThanOrEqual(seq.pValue / 2 - 1e-15);
      expect(onSide).toBeLessThanOrEqual(seq.pValue + 1e-15);
      expect(otherSide).toBeGreaterThanOrEqual(seq.pValue);
    }
  });

  it('is monotone in the margin: a wider margin never makes a breach more, or non-inferiority less, likely', () => {
    for (const name of ['latency 30% higher', 'latency equal', 'cost per request', 'thumbs-down rate']) {
      const { control: c, treatment: t } = control(name);
      for (const kind of ['maxAbsoluteIncrease', 'maxRelativeIncrease'] as const) {
        let previous: { breach: number; nonInferiority: number } | null = null;
        for (let k = 0; k <= 40; k++) {
          const margin: GuardrailMargin =
            kind === 'maxRelativeIncrease'
              ? { maxRelativeIncrease: k * 0.01 }
              : { maxAbsoluteIncrease: k * 0.01 * (c.sum / c.n) };
          // Fix τ² so only the margin moves.
          const r = unwrap(nonInferiorityTest(c, t, margin, { tauSquared: 1e-4 }));
          if (previous !== null) {
            expect(r.breachPValue).toBeGreaterThanOrEqual(previous.breach);
            expect(r.nonInferiorityPValue).toBeLessThanOrEqual(previous.nonInferiority);
          }
          previous = { breach: r.breachPValue, nonInferiority: r.nonInferiorityPValue };
        }
      }
    }
  });

  it('breaches for 30% higher latency against a 10% margin and shows non-inferiority for equal latency', () => {
    const higher = control('latency 30% higher');
    const r = unwrap(nonInferiorityTest(higher.control, higher.treatment, { maxRelativeIncrease: 0.1 }));
    expect(r.breachPValue).toBeLessThan(0.05);
    expect(r.nonInferiorityPValue).toBe(1);
    const equal = control('latency equal');
    const s = unwrap(nonInferiorityTest(equal.control, equal.treatment, { maxRelativeIncrease: 0.1 }));
    expect(s.breachPValue).toBe(1);
    expect(s.nonInferiorityPValue).toBeLessThan(0.05);
  });

  it('stays finite far beyond the underflow of Φ and of Λ', () => {
    const c = { n: 10_000, sum: 10_000_000, sumSq: 10_000 * (1000 ** 2 + 1) };
    const t = { n: 10_000, sum: 20_000_000, sumSq: 10_000 * (2000 ** 2 + 1) };
    const r = unwrap(nonInferiorityTest(c, t, { maxAbsoluteIncrease: 10 }));
    expect(r.breachPValue).toBe(0);
    expect(r.nonInferiorityPValue).toBe(1);
    expect(Number.isFinite(r.breachLogLikelihoodRatio)).toBe(true);
    expect(Number.isFinite(r.nonInferiorityLogLikelihoodRatio)).toBe(true);
    expectNoNaN(r);
  });

  const some = { n: 3, sum: 3, sumSq: 5 };
  it.each([
    ['no-data', { n: 0, sum: 0, sumSq: 0 }, some, { maxAbsoluteIncrease: 1 }, {}],
    ['n<2', { n: 1, sum: 1, sumSq: 1 }, some, { maxAbsoluteIncrease: 1 }, {}],
    [
      'zero-variance',
      { n: 3, sum: 3, sumSq: 3 },
      { n: 3, sum: 6, sumSq: 12 },
      { maxRelativeIncrease: 0.1 },
      {},
    ],
    ['non-positive-mean', { n: 3, sum: 0, sumSq: 2 }, some, { maxRelativeIncrease: 0.1 }, {}],
    ['non-positive-mean', some, { n: 3, sum: -3, sumSq: 5 }, { maxRelativeIncrease: 0.1 }, {}],
    ['invalid-input', some, some, { maxAbsoluteIncrease: -1 }, {}],
    ['invalid-input', some, some, { maxRelativeIncrease: Infinity }, {}],
    ['invalid-input', some, some, { maxRelativeDecrease: 1 }, {}],
    ['invalid-input', some, some, { maxAbsoluteIncrease: 1, maxRelativeIncrease: 0.1 }, {}],
    ['invalid-input', some, some, {}, {}],
    ['invalid-input', some, some, { maxAbsoluteIncrease: 1 }, { tauSquared: 0 }],
    ['invalid-input', some, some, { maxAbsoluteIncrease: 1 }, { alpha: 1 }],
  ] as const)('%s', (reason, c, t, margin, options) => {
    expect(nonInferiorityTest(c, t, margin as GuardrailMargin, options)).toMatchObject({ ok: false, reason });
  });

  it('with an absolute decrease margin (lower is worse) is the increase test with the arms swapped', () => {
    for (const c of cases) {
      const down = unwrap(nonInferiorityTest(c.control, c.treatment, { maxAbsoluteDecrease: 0.1 }));
      const up = unwrap(nonInferiorityTest(c.treatment, c.control, { maxAbsoluteIncrease: 0.1 }));
      expect(down.worse).toBe('lower');
      expect(down.estimate).toBe(up.estimate);
      expect(down.breachPValue).toBe(up.breachPValue);
      expect(down.nonInferiorityPValue).toBe(up.nonInferiorityPValue);
    }
  });

  it('reports no relative change when the control mean is 0 (absolute margin)', () => {
    const r = unwrap(
      nonInferiorityTest({ n: 4, sum: 0, sumSq: 4 }, { n: 4, sum: 2, sumSq: 4 }, { maxAbsoluteIncrease: 0 }),
    );
    expect(r.relativeChange).toBeNull();
  });
});
