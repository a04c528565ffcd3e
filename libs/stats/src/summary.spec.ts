import { summarizeMean } from './summary';
import { mergeMeanStats, moments } from './sufficient-stats';
import { expectClose, expectPair, reference, unwrap } from '../test/support/tolerance';

describe('summarizeMean', () => {
  it.each(reference.summaries)(
    '$name matches NumPy/SciPy from (n, sum, sumSq)',
    ({ input, mean, sd, ci95 }) => {
      const s = unwrap(summarizeMean(input));
      expect(s.n).toBe(input.n);
      expectClose(s.mean, mean);
      expectClose(s.sd, sd);
      expectPair(s.ci95, ci95);
    },
  );

  it('merges partial aggregates into the same summary', () => {
    const a = { n: 3, sum: 1 + 2 + 4, sumSq: 1 + 4 + 16 };
    const b = { n: 2, sum: 5 + 3, sumSq: 25 + 9 };
    const whole = { n: 5, sum: 15, sumSq: 55 };
    expect(mergeMeanStats(a, b)).toEqual(whole);
    expect(unwrap(summarizeMean(mergeMeanStats(a, b)))).toEqual(unwrap(summarizeMean(whole)));
  });

  describe('degenerate input returns a reason, never NaN or a throw', () => {
    it.each([
      ['no-data', { n: 0, sum: 0, sumSq: 0 }],
      ['n<2', { n: 1, sum: 4, sumSq: 16 }],
      ['zero-variance', { n: 10, sum: 50, sumSq: 250 }],
      ['zero-variance', { n: 3, sum: 0.30000000000000004, sumSq: 0.030000000000000006 }],
      ['invalid-input', { n: -1, sum: 0, sumSq: 0 }],
      ['invalid-input', { n: 2.5, sum: 1, sumSq: 1 }],
      ['invalid-input', { n: 3, sum: NaN, sumSq: 1 }],
      ['invalid-input', { n: 3, sum: 3, sumSq: Infinity }],
      ['invalid-input', { n: 3, sum: 3, sumSq: -1 }],
      ['invalid-input', { n: 2, sum: 10, sumSq: 1 }],
    ] as const)('%s for %j', (reason, stats) => {
      const r = summarizeMean(stats);
      expect(r).toMatchObject({ ok: false, reason });
    });
  });

  it('treats rounding residue of constant float data as exactly zero variance', () => {
    const m = unwrap(moments({ n: 3, sum: 0.1 + 0.1 + 0.1, sumSq: 0.1 * 0.1 * 3 }));
    expect(m.variance).toBe(0);
  });
});
