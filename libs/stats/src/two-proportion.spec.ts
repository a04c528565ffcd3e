import { twoProportionZTest } from './two-proportion';
import { expectClose, expectNoNaN, expectPair, reference, unwrap } from '../test/support/tolerance';

describe('twoProportionZTest(control, treatment)', () => {
  it.each(reference.twoProportion)(
    '$control.successes/$control.n vs $treatment.successes/$treatment.n',
    (c) => {
      const r = unwrap(twoProportionZTest(c.control, c.treatment));
      expect(r.test).toBe('two-proportion-z');
      expectClose(r.diff, c.diff);
      expectClose(r.z, c.z);
      expectClose(r.pValue, c.pValue);
      expectPair(r.ci95, c.ci95);
      if (c.relativeLift === null) expect(r.relativeLift).toBeNull();
      else expectClose(r.relativeLift ?? NaN, c.relativeLift);
    },
  );

  it('accepts zero successes in one arm', () => {
    const r = unwrap(twoProportionZTest({ n: 100, successes: 0 }, { n: 100, successes: 4 }));
    expect(r.relativeLift).toBeNull();
    expectNoNaN(r);
  });

  it.each([
    ['no-data', { n: 0, successes: 0 }, { n: 10, successes: 1 }],
    ['zero-variance', { n: 10, successes: 0 }, { n: 12, successes: 0 }],
    ['zero-variance', { n: 10, successes: 10 }, { n: 12, successes: 12 }],
    ['invalid-input', { n: 10, successes: 11 }, { n: 12, successes: 1 }],
  ] as const)('%s', (reason, control, treatment) => {
    expect(twoProportionZTest(control, treatment)).toMatchObject({ ok: false, reason });
  });
});
