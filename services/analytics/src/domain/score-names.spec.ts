import { f, FakeStore, feedbackData } from '../../test/support/planner';
import { planBatch } from './batch-planner';
import { feedbackValues, limitScoreNames, MAX_SCORE_NAMES_PER_EXPERIMENT } from './feedback-values';

const names = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(2, '0')}`);
const feedback = (fid: string, scores: string[], { revision = 1, exp = 'e', arm = 'a', value = 1 } = {}) =>
  feedbackData(fid, {
    revision,
    experiment: exp,
    arm,
    scores: Object.fromEntries(scores.map((s) => [s, value])),
  });

describe('score names per experiment (aggregation)', () => {
  it('keeps the first 50 names in offset order, drops later new names and counts them', () => {
    expect(MAX_SCORE_NAMES_PER_EXPERIMENT).toBe(50);
    const store = new FakeStore();
    store.apply(
      planBatch(store.load(), [
        f(0, feedback('f0', names('s', 0, 20))),
        f(1, feedback('f1', names('s', 20, 40))),
        // 10 more fit, the last 10 of this event do not.
        f(2, feedback('f2', names('s', 40, 60))),
        // Tracked names are still aggregated after the limit is reached; new ones are not.
        f(3, feedback('f3', [...names('s', 0, 5), ...names('x', 0, 3)])),
      ]),
    );
    const v = store.merged();
    expect(Object.keys(v.scores).sort()).toEqual(names('s', 0, 50));
    expect(v.scores.s00).toEqual({ n: 2, sum: 2, sumSq: 2 });
    expect(v.scores.s49.n).toBe(1);
    expect(v.droppedScores).toBe(13);
    expect(v.droppedScoreNames).toEqual([...names('s', 50, 60), ...names('x', 0, 3)]);
    // Another experiment has its own names.
    store.apply(planBatch(store.load(), [f(4, feedback('g0', names('y', 0, 20), { exp: 'other' }))]));
    expect(Object.keys(store.merged('other').scores)).toHaveLength(20);
    expect(store.merged('other').droppedScores).toBeUndefined();
  });

  it('is the same set after a replay from scratch with other batch boundaries, and after a crash', () => {
    const events = Array.from({ length: 12 }, (_, i) =>
      f(i, feedback(`f${i}`, names(i % 2 === 0 ? 's' : 'x', (i >> 1) * 10, (i >> 1) * 10 + 10))),
    );
    const once = new FakeStore();
    once.apply(planBatch(once.load(), events));

    const replay = new FakeStore();
    replay.apply(planBatch(replay.load(), events.slice(0, 5)));
    replay.apply(planBatch(replay.load(), events.slice(5, 7)), true); // crash: revisions stored, buckets not
    replay.apply(planBatch(replay.load(), events.slice(5, 9))); // redelivery with other boundaries
    replay.apply(planBatch(replay.load(), events.slice(7)));

    expect(replay.merged()).toEqual(once.merged());
    expect(Object.keys(once.merged().scores)).toHaveLength(50);
    expect(once.merged().droppedScores).toBe(70);
  });

  it('an edit re-evaluates names: a dropped score stays dropped, removing it lowers the count', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('full', names('s', 0, 50)))]));
    store.apply(planBatch(store.load(), [f(1, feedback('fb', ['s00', 'late'], { value: 2 }))]));
    expect(store.merged().droppedScores).toBe(1);
    // Revision 2 replaces every value of revision 1: s00 moves, `late` is gone.
    store.apply(planBatch(store.load(), [f(2, feedback('fb', ['s00'], { revision: 2, value: 4 }))]));
    const v = store.merged();
    expect(v.scores.s00).toEqual({ n: 2, sum: 5, sumSq: 17 });
    expect(v.droppedScores ?? 0).toBe(0);
    expect(v.scores.late).toBeUndefined();
  });

  it('limitScoreNames returns the values unchanged when nothing is dropped', () => {
    const values = feedbackValues(feedback('f', ['a', 'b.c']));
    expect(limitScoreNames(values, new Set(['a']), 2)).toBe(values);
    expect(limitScoreNames(values, new Set(['z']), 2)).toEqual({
      ...values,
      scores: { a: 1 },
      droppedScores: 1,
      droppedScoreNames: ['b%2Ec'],
    });
  });
});
