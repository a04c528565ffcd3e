import { SCORE_NAME_PATTERN } from '@llmops/contracts';
import { experimentDoc, f, FakeStore, feedbackData } from '../../test/support/planner';
import { metricStats } from './decision-input';
import { computeResults } from '../results/compute-results';
import { planBatch } from '../domain/batch-planner';
import { addValues, type Bucket, emptyBucket, emptyValues, scoreOf } from '../domain/bucket';
import { feedbackDelta, feedbackValues } from '../domain/feedback-values';

/**
 * Score names are plain strings that the contracts accept, and some of them name members of
 * Object.prototype: every score map is read by own property, so such a score is stored and counted
 * like any other and nothing is ever written to the global `Object`.
 */
const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
const objectKeysBefore = Object.getOwnPropertyNames(Object);

afterEach(() => {
  const added = Object.getOwnPropertyNames(Object).filter((k) => !objectKeysBefore.includes(k));
  // Undone before asserting, so one failure does not spill into the next test.
  for (const k of added) delete (Object as unknown as Record<string, unknown>)[k];
  expect(added).toEqual([]);
});

const fb = (fid: string, scores: Record<string, number>, revision = 1, arm = 'a') =>
  feedbackData(fid, { revision, arm, scores });

describe('score names that are Object.prototype members', () => {
  it('are valid score names, and `__proto__` (whose assignment would set a prototype) is not', () => {
    for (const name of PROTOTYPE_NAMES) expect(SCORE_NAME_PATTERN.test(name)).toBe(true);
    // Escaping only turns '.' into '%2E', so no valid name escapes to `__proto__` either.
    expect(SCORE_NAME_PATTERN.test('__proto__')).toBe(false);
  });

  it('merge into buckets like any other name', () => {
    const into = emptyValues();
    addValues(into, feedbackDelta(null, feedbackValues(fb('f1', { constructor: 2, ok: 1 }))));
    addValues(into, feedbackDelta(null, feedbackValues(fb('f2', { toString: 3, ok: 2 }))));
    addValues(into, feedbackDelta(null, feedbackValues(fb('f3', { constructor: 4, toString: 5 }))));
    expect(into.scores).toEqual({
      constructor: { n: 2, sum: 6, sumSq: 20 },
      ok: { n: 2, sum: 3, sumSq: 5 },
      toString: { n: 2, sum: 8, sumSq: 34 },
    });
  });

  it('an edit that moves a value from one such name to another subtracts and adds exactly', () => {
    const before = feedbackValues(fb('f', { constructor: 2 }));
    const after = feedbackValues(fb('f', { toString: 3, valueOf: 1 }, 2));
    expect(feedbackDelta(before, after).scores).toEqual({
      toString: { n: 1, sum: 3, sumSq: 9 },
      valueOf: { n: 1, sum: 1, sumSq: 1 },
      constructor: { n: -1, sum: -2, sumSq: -4 },
    });
  });

  it('are aggregated, edited and read back through the planner', () => {
    const store = new FakeStore();
    store.apply(
      planBatch(store.load(), [
        f(0, fb('f1', Object.fromEntries(PROTOTYPE_NAMES.map((n) => [n, 1])))),
        f(1, fb('f2', { ok: 1, constructor: 3 })),
      ]),
    );
    // An edit in a later batch: subtracts revision 1 (loaded back from the journal) and adds revision 2.
    store.apply(planBatch(store.load(), [f(2, fb('f1', { toString: 5, ok: 4 }, 2))]));
    expect(store.merged().scores).toEqual({
      constructor: { n: 1, sum: 3, sumSq: 9 },
      toString: { n: 1, sum: 5, sumSq: 25 },
      valueOf: { n: 0, sum: 0, sumSq: 0 },
      hasOwnProperty: { n: 0, sum: 0, sumSq: 0 },
      ok: { n: 2, sum: 5, sumSq: 17 },
    });
  });

  it('are compared between arms by the results, also when only one arm has them', async () => {
    const experiment = experimentDoc();
    const bucket = (arm: string, scores: Record<string, number>): Bucket => {
      const b = emptyBucket('default', 'e', arm, 0, 'f', 0);
      for (const [name, x] of Object.entries(scores))
        b.scores[name] = { n: 4, sum: 4 * x, sumSq: 4 * x * x + 1 };
      return b;
    };
    const results = await computeResults(
      experiment,
      [bucket('A', { ok: 1, constructor: 2 }), bucket('B', { ok: 2, toString: 3 })],
      { from: new Date(0), to: new Date(60_000) },
      { minimumPerArm: 2, recommendedPerArm: 5 },
    );
    expect(results.arms.map((a) => [a.arm, Object.keys(a.scores).sort()])).toEqual([
      ['A', ['constructor', 'ok']],
      ['B', ['ok', 'toString']],
    ]);
    expect(scoreOf(results.arms[0].scores, 'constructor')?.mean).toBe(2);
    expect(scoreOf(results.arms[1].scores, 'toString')?.mean).toBe(3);
    const compared = results.comparisons.filter((c) => c.metric.startsWith('score:'));
    expect(compared.map((c) => c.metric)).toEqual(['score:constructor', 'score:ok', 'score:toString']);
    // The arm without the score compares as no data, never as NaN.
    for (const c of compared) expect(c.diff === null || Number.isFinite(c.diff)).toBe(true);
  });

  it('are no data for a decision metric of an arm that has none', () => {
    const values = emptyValues();
    values.scores.ok = { n: 1, sum: 1, sumSq: 1 };
    expect(metricStats(values, 'score:constructor')).toBeUndefined();
    expect(metricStats(values, 'score:toString')).toBeUndefined();
    Object.assign(values.scores, { constructor: { n: 2, sum: 3, sumSq: 5 } });
    expect(metricStats(values, 'score:constructor')).toEqual({ n: 2, sum: 3, sumSq: 5 });
  });
});
