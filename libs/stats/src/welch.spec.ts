import { welchTest } from './welch';
import { expectClose, expectNoNaN, expectPair, reference, unwrap } from '../test/support/tolerance';

describe('welchTest(control, treatment)', () => {
  it.each(reference.welch)('$name matches scipy ttest_ind_from_stats', (c) => {
    const r = unwrap(welchTest(c.control, c.treatment));
    expect(r.test).toBe('welch-t');
    expectClose(r.diff, c.diff);
    expectClose(r.t, c.t);
    expectClose(r.df, c.df);
    expectClose(r.pValue, c.pValue);
    expectPair(r.ci95, c.ci95);
    if (c.relativeLift === null) expect(r.relativeLift).toBeNull();
    else expectClose(r.relativeLift ?? NaN, c.relativeLift);
  });

  it('covers p-values in the 1e-10 range and below', () => {
    const p = reference.welch.map((c) => c.pValue);
    expect(Math.min(...p)).toBeLessThan(1e-10);
    expect(p.some((v) => v > 1e-11 && v < 1e-8)).toBe(true);
  });

  it('is antisymmetric in the argument order', () => {
    const c = reference.welch[1];
    const forward = unwrap(welchTest(c.control, c.treatment));
    const backward = unwrap(welchTest(c.treatment, c.control));
    expect(backward.diff).toBe(-forward.diff);
    expect(backward.pValue).toBe(forward.pValue);
    expect(backward.df).toBe(forward.df);
  });

  describe('degenerate input', () => {
    const good = { n: 10, sum: 30, sumSq: 100 };
    it.each([
      ['no-data', { n: 0, sum: 0, sumSq: 0 }, good],
      ['no-data', good, { n: 0, sum: 0, sumSq: 0 }],
      ['n<2', { n: 1, sum: 3, sumSq: 9 }, good],
      ['zero-variance', { n: 5, sum: 20, sumSq: 80 }, { n: 7, sum: 35, sumSq: 175 }],
      ['invalid-input', good, { n: 4, sum: 4, sumSq: 2 }],
    ] as const)('%s', (reason, control, treatment) => {
      expect(welchTest(control, treatment)).toMatchObject({ ok: false, reason });
    });

    it('accepts one constant arm (df falls back to the other arm)', () => {
      const r = unwrap(welchTest({ n: 5, sum: 20, sumSq: 80 }, good));
      expectClose(r.df, 9, 1e-12);
      expectNoNaN(r);
    });
  });
});
