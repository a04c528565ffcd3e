import { holmAdjust } from './holm';
import { decisionReference, expectClose } from '../test/support/tolerance';

describe('holmAdjust', () => {
  it.each(decisionReference.holm)('$name matches statsmodels multipletests(method="holm") to 1e-12', (c) => {
    const adjusted = holmAdjust(c.pValues);
    expect(adjusted).toHaveLength(c.adjusted.length);
    adjusted.forEach((value, i) => expectClose(value, c.adjusted[i], 1e-12));
  });

  it('keeps the input order, never lowers a p-value, caps at 1 and is monotone in the raw values', () => {
    for (const { pValues } of decisionReference.holm) {
      const adjusted = holmAdjust(pValues);
      pValues.forEach((p, i) => {
        expect(adjusted[i]).toBeGreaterThanOrEqual(p);
        expect(adjusted[i]).toBeLessThanOrEqual(1);
        pValues.forEach((q, j) => {
          if (p <= q) expect(adjusted[i]).toBeLessThanOrEqual(adjusted[j]);
        });
      });
    }
  });

  it('gives ties the same adjusted value', () => {
    expect(holmAdjust([0.01, 0.04, 0.01])).toEqual([0.03, 0.04, 0.03]);
  });

  it('returns an empty list for no p-values and leaves a single one unchanged', () => {
    expect(holmAdjust([])).toEqual([]);
    expect(holmAdjust([0.037])).toEqual([0.037]);
  });

  it.each([[[0.1, NaN]], [[0.1, -0.01]], [[1.5, 0.2]]])('gives NaN everywhere for invalid input %j', (p) => {
    expect(holmAdjust(p).every(Number.isNaN)).toBe(true);
  });
});
