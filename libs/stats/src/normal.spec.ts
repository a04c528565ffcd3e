import { normalCdf, normalIsf, normalPdf, normalQuantile, normalSf } from './normal';
import { expectClose, reference } from '../test/support/tolerance';

describe('standard normal', () => {
  it.each(reference.normal)('cdf and sf at x = $x match SciPy', ({ x, cdf, sf }) => {
    expectClose(normalCdf(x), cdf);
    expectClose(normalSf(x), sf);
  });

  it.each(reference.normalQuantile)('quantile at p = $p matches SciPy', ({ p, x }) => {
    expectClose(normalQuantile(p), x);
  });

  it('meets the 1e-12 precision target on every fixture', () => {
    for (const { x, cdf, sf } of reference.normal) {
      expectClose(normalCdf(x), cdf, 1e-12);
      expectClose(normalSf(x), sf, 1e-12);
    }
    for (const { p, x } of reference.normalQuantile) expectClose(normalQuantile(p), x, 1e-12);
  });

  it('handles the edges without NaN', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalSf(Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalIsf(0.025)).toBeCloseTo(1.959963984540054, 14);
    expect(normalPdf(0)).toBeCloseTo(0.3989422804014327, 15);
  });

  it('round-trips quantile and cdf', () => {
    for (const p of [1e-15, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99]) {
      expectClose(normalCdf(normalQuantile(p)), p, 1e-13);
    }
  });
});
