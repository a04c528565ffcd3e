import { type Bucket, emptyBucket } from '../domain/bucket';
import { experimentDoc } from '../../test/support/planner';
import { computeResults } from './compute-results';

const experiment = experimentDoc();

function bucket(arm: string, rating: number, n: number, score?: string): Bucket {
  const b = emptyBucket('default', 'e', arm, 0, 'f', 0);
  b.exposures = n;
  b.rating = { n, sum: rating * n, sumSq: rating * rating * n };
  if (score) b.scores[score] = { n, sum: n, sumSq: n };
  return b;
}

it("counts only the experiment's own arms: another arm's data is left out everywhere", async () => {
  const counted = [bucket('A', 3, 10), bucket('B', 4, 10)];
  const forged = [bucket('Z', 5, 200, 'forged-score'), bucket('B ', 5, 200)];
  const window = { from: new Date(0), to: new Date(60_000) };
  const options = { minimumPerArm: 2, recommendedPerArm: 5 };
  const clean = await computeResults(experiment, counted, window, options);
  const withForged = await computeResults(experiment, [...counted, ...forged], window, options);
  expect(withForged).toEqual(clean);
  expect(withForged.arms.map((a) => [a.arm, a.rating.n, a.rating.mean])).toEqual([
    ['A', 10, 3],
    ['B', 10, 4],
  ]);
  expect(withForged.srm.observed).toEqual({ A: 10, B: 10 });
});
