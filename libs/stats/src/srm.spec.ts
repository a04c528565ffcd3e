import { sampleRatioMismatch } from './srm';
import { expectClose, reference, unwrap } from '../test/support/tolerance';

describe('sampleRatioMismatch', () => {
  it.each(reference.srm)('$observed on weights $weights matches scipy chisquare', (c) => {
    const r = unwrap(sampleRatioMismatch(c.observed, c.weights));
    expectClose(r.chiSquare, c.chiSquare);
    expectClose(r.pValue, c.pValue);
    expect(r.df).toBe(c.df);
    expect(r.mismatch).toBe(c.mismatch);
    r.expected.forEach((e, i) => expectClose(e, c.expected[i]));
  });

  it('flags 5,300 vs 4,700 on 50/50 and passes 5,020 vs 4,980', () => {
    expect(unwrap(sampleRatioMismatch([5300, 4700], [0.5, 0.5])).mismatch).toBe(true);
    expect(unwrap(sampleRatioMismatch([5020, 4980], [0.5, 0.5])).mismatch).toBe(false);
  });

  it('normalises weights by their sum', () => {
    const a = unwrap(sampleRatioMismatch([2050, 2950, 5000], [0.2, 0.3, 0.5]));
    const b = unwrap(sampleRatioMismatch([2050, 2950, 5000], [2, 3, 5]));
    expectClose(a.pValue, b.pValue, 1e-14);
  });

  it('honours a custom threshold', () => {
    const r = unwrap(sampleRatioMismatch([900, 1100], [1, 1], 0.01));
    expect(r.pValue).toBeLessThan(0.01);
    expect(r.mismatch).toBe(true);
  });

  it('ignores arms with weight 0 and no traffic', () => {
    const r = unwrap(sampleRatioMismatch([100, 0, 102], [1, 0, 1]));
    expect(r.df).toBe(1);
    expect(r.expected[1]).toBe(0);
    expect(r.zeroWeightArmsWithTraffic).toEqual([]);
  });

  it('treats traffic in a zero-weight arm as an immediate mismatch', () => {
    const r = unwrap(sampleRatioMismatch([100, 1, 102], [1, 0, 1]));
    expect(r).toMatchObject({
      mismatch: true,
      pValue: 0,
      chiSquare: Infinity,
      zeroWeightArmsWithTraffic: [1],
    });
  });

  it.each([
    ['invalid-input', [1, 2], [1]],
    ['invalid-input', [1, -2], [1, 1]],
    ['invalid-input', [1, 2.5], [1, 1]],
    ['invalid-input', [1, 2], [1, NaN]],
    ['invalid-input', [1, 2], [0, 0]],
    ['no-data', [0, 0], [1, 1]],
    ['fewer-than-2-arms', [10, 0], [1, 0]],
  ] as const)('%s for %j / %j', (reason, observed, weights) => {
    expect(sampleRatioMismatch(observed, weights)).toMatchObject({ ok: false, reason });
  });
});
