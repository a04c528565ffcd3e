import { type ExperimentResults, renderResults, verdict } from './results-table';

const arm = (name: string, n: number, mean: number, ci: number[], up: number, p50: number, p95: number) => ({
  arm: name,
  rating: { n, mean, ci95: ci },
  thumbs: { rate: up },
  latencyMs: { p50, p95, p99: null },
  costPerRequestUsd: 0.000141,
});

/** The numbers of the root README's demo output. */
const results = {
  experiment: 'summarizer-demo',
  control: 'A',
  arms: [
    arm('A', 490, 3.503, [3.408, 3.598], 0.512, 804, 1108),
    arm('B', 510, 3.868, [3.781, 3.955], 0.675, 854, 1176),
  ],
  comparisons: [
    {
      arm: 'B',
      metric: 'rating',
      diff: 0.365,
      ci95: [0.238, 0.491],
      pValue: 0.00001,
      sequential: { pValue: 0.00002, method: 'mSPRT-normal-mixture' },
    },
    {
      arm: 'B',
      metric: 'thumbs',
      diff: 0.162,
      ci95: [0.102, 0.222],
      pValue: 0.00001,
      sequential: { pValue: 0.0001, method: 'mSPRT-normal-mixture' },
    },
  ],
  srm: { pValue: 0.5271, mismatch: false },
  sampleSize: { minimumPerArm: 300, reached: true },
} as unknown as ExperimentResults;

describe('renderResults', () => {
  it("prints the demo's table, comparisons, SRM line and verdict", () => {
    expect(renderResults(results)).toBe(
      [
        '  arm          n    mean rating  95% CI        thumbs up  p50 ms  p95 ms  cost/req $',
        '  A (control)  490  3.50         [3.41, 3.60]  51.2%      804     1108    0.000141',
        '  B            510  3.87         [3.78, 3.96]  67.5%      854     1176    0.000141',
        '',
        '  B vs A, rating: diff 0.365 [0.238, 0.491], p = 0.0000, sequential p = 0.0000 (mSPRT-normal-mixture)',
        '  B vs A, thumbs: diff 0.162 [0.102, 0.222], p = 0.0000, sequential p = 0.0001 (mSPRT-normal-mixture)',
        '  SRM: p = 0.5271 ok',
        '',
        'Verdict: B is better by 0.36 ± 0.13 (p < 0.001); sample size reached.',
      ].join('\n'),
    );
  });

  it('shows a dash for what is not known yet, and no comparison lines without comparisons', () => {
    const empty = {
      ...results,
      arms: [
        {
          arm: 'A',
          rating: { n: 0, mean: null, ci95: null },
          thumbs: { rate: null },
          latencyMs: { p50: null, p95: null, p99: null },
          costPerRequestUsd: null,
        },
      ],
      comparisons: [],
      srm: { pValue: null, mismatch: false },
      sampleSize: { minimumPerArm: 300, reached: false },
    } as unknown as ExperimentResults;
    expect(renderResults(empty)).toBe(
      [
        '  arm          n  mean rating  95% CI  thumbs up  p50 ms  p95 ms  cost/req $',
        '  A (control)  0  —            —       —          —       —       —',
        '',
        '  SRM: p = — ok',
        '',
        'Verdict: Not enough data to compare ratings yet; sample size not reached (minimum 300 per arm).',
      ].join('\n'),
    );
  });
});

describe('verdict', () => {
  const rating = results.comparisons[0];
  const withRating = (change: object) =>
    verdict({ ...results, comparisons: [{ ...rating, ...change }] } as ExperimentResults);

  it('distrusts results with a sample-ratio mismatch', () => {
    expect(verdict({ ...results, srm: { ...results.srm, pValue: 0.0001, mismatch: true } })).toBe(
      'Do not trust these results: sample-ratio mismatch (p = 0.0001).',
    );
  });

  it('names the control when it is better, and says when no difference is significant', () => {
    expect(withRating({ diff: -0.2, ci95: [-0.3, -0.1], pValue: 0.01 })).toBe(
      'A is better by 0.20 ± 0.10 (p = 0.010); sample size reached.',
    );
    expect(withRating({ diff: 0.05, ci95: [-0.05, 0.15], pValue: 0.3 })).toBe(
      'No significant rating difference between B and A (+0.05 ± 0.10, p = 0.300); sample size reached.',
    );
  });
});
