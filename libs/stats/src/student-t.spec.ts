import { studentTCdf, studentTPdf, studentTQuantile, studentTSf, studentTTwoSidedP } from './student-t';
import { expectClose, reference } from '../test/support/tolerance';

describe('Student t', () => {
  it.each(reference.studentT)('cdf and sf at t = $t, df = $df match SciPy', ({ t, df, cdf, sf }) => {
    expectClose(studentTCdf(t, df), cdf);
    expectClose(studentTSf(t, df), sf);
  });

  it.each(reference.studentTQuantile)('quantile at p = $p, df = $df matches SciPy', ({ p, df, t }) => {
    expectClose(studentTQuantile(p, df), t);
  });

  it('meets the 1e-12 precision target on every fixture', () => {
    for (const { t, df, cdf, sf } of reference.studentT) {
      expectClose(studentTCdf(t, df), cdf, 1e-12);
      expectClose(studentTSf(t, df), sf, 1e-12);
    }
    for (const { p, df, t } of reference.studentTQuantile) expectClose(studentTQuantile(p, df), t, 1e-12);
  });

  it('is symmetric and consistent', () => {
    expect(studentTCdf(0, 3.3)).toBe(0.5);
    expect(studentTQuantile(0.5, 9)).toBe(0);
    expect(studentTQuantile(0, 9)).toBe(-Infinity);
    expect(studentTQuantile(1, 9)).toBe(Infinity);
    expect(studentTTwoSidedP(0, 4)).toBe(1);
    expectClose(studentTTwoSidedP(-2.5, 11.5), 2 * studentTSf(2.5, 11.5), 1e-15);
    // Cauchy (df = 1) has closed forms to compare against.
    expectClose(studentTCdf(1, 1), 0.75, 1e-15);
    expectClose(studentTQuantile(0.9, 1), Math.tan(Math.PI * 0.4), 1e-13);
    expectClose(studentTPdf(0, 1), 1 / Math.PI, 1e-14);
  });

  it('returns NaN for invalid parameters instead of throwing', () => {
    expect(studentTCdf(1, 0)).toBeNaN();
    expect(studentTSf(1, -2)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
  });

  it('gives 0 rather than NaN for an infinite statistic', () => {
    expect(studentTSf(Infinity, 5)).toBe(0);
    expect(studentTCdf(-Infinity, 5)).toBe(0);
  });
});
