import { feedbackData, generationData } from '../../test/support/planner';
import { latencyRefusal, nonFiniteField } from './aggregate-guard';
import { planBatch } from './batch-planner';
import { emptyValues } from './bucket';
import { PartitionState } from './partition-state';

const generation = (requestId: string, costUsd: number, latencyMs = 100) =>
  generationData(requestId, { experiment: 'e', arm: 'a', costUsd, latencyMs });
const feedback = (fid: string, scores: Record<string, number>, named = true) =>
  feedbackData(fid, { scores }, named);

describe('nonFiniteField', () => {
  it('accepts a finite contribution and names its first summary that is not finite', () => {
    const delta = emptyValues();
    delta.costSum = 1e308;
    expect(nonFiniteField(delta)).toBeNull();
    delta.costSum = Infinity;
    expect(nonFiniteField(delta)).toBe('costSum');
    const score = emptyValues();
    score.scores['tone%2Efriendly'] = { n: 1, sum: 1e200, sumSq: Infinity };
    expect(nonFiniteField(score)).toBe('scores.tone.friendly.sumSq');
    const nan = emptyValues();
    nan.rating = { n: 1, sum: NaN, sumSq: 0 };
    expect(nonFiniteField(nan)).toBe('rating.sum');
  });

  it('refuses latencies the sketch cannot index', () => {
    expect(latencyRefusal(1_000)).toBeNull();
    expect(latencyRefusal(Infinity)).toMatch(/latencyMs Infinity/);
    expect(latencyRefusal(-1)).toMatch(/latencyMs -1/);
    expect(latencyRefusal(NaN)).toMatch(/latencyMs NaN/);
  });
});

describe('planBatch refuses poison before it changes anything', () => {
  it('rejects a generation whose own cost or latency is not finite, and applies the rest', () => {
    const state = new PartitionState(0);
    const plan = planBatch(state, [
      { kind: 'g', offset: 0, project: 'default', data: generation('r0', 1) },
      { kind: 'g', offset: 1, project: 'default', data: generation('r1', Infinity) },
      { kind: 'g', offset: 2, project: 'default', data: generation('r2', NaN) },
      { kind: 'g', offset: 3, project: 'default', data: generation('r3', 1, Infinity) },
      { kind: 'g', offset: 4, project: 'default', data: generation('r4', 2) },
    ]);
    expect(plan.rejected?.map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(plan.rejected?.[0].reason).toBe('costSum of e/a is not a finite number');
    expect(plan.rejected?.[2].reason).toMatch(/latencyMs Infinity cannot be summarized/);
    expect(plan.outcomes.map((o) => o.outcome)).toEqual([
      'applied',
      'rejected',
      'rejected',
      'rejected',
      'applied',
    ]);
    // No trace of the refused ones: no request document, no contribution.
    expect(plan.additions.requests.flatMap((g) => g.ids)).toEqual(['r0', 'r4']);
    const [bucket] = plan.buckets.map((t) => t.bucket);
    expect(bucket.generations).toBe(2);
    expect(bucket.costSum).toBe(3);
    expect(bucket.lastOffset).toBe(4);
  });

  it('rejects feedback whose own scores are not finite, named or parked, without state documents', () => {
    const state = new PartitionState(0);
    const plan = planBatch(state, [
      { kind: 'f', offset: 0, project: 'default', data: feedback('f0', { s: 1e200 }) },
      { kind: 'f', offset: 1, project: 'default', data: feedback('f1', { s: 1e200 }, false) },
      { kind: 'f', offset: 2, project: 'default', data: feedback('f2', { s: 0.5 }) },
    ]);
    expect(plan.rejected).toEqual([
      { offset: 0, reason: 'feedback scores.s.sumSq is not a finite number' },
      { offset: 1, reason: 'feedback scores.s.sumSq is not a finite number' },
    ]);
    expect(plan.additions.revisions.map((r) => r.feedbackId)).toEqual(['f2']);
    expect(plan.pending).toEqual([]);
    expect(state.pendingIds.size).toBe(0);
    expect(plan.buckets[0].bucket.scores.s).toEqual({ n: 1, sum: 0.5, sumSq: 0.25 });
  });

  it('judges a redelivered batch as the first time, even after later records of the bucket were written', () => {
    // As after a crash between the write and the commit: the same batch again, on the state the
    // first attempt left (the bucket's lastOffset is already past the refused records).
    const batch = () => [
      { kind: 'g' as const, offset: 0, project: 'default', data: generation('r0', Infinity) },
      { kind: 'f' as const, offset: 1, project: 'default', data: feedback('f1', { s: 1e200 }) },
      { kind: 'g' as const, offset: 2, project: 'default', data: generation('r2', 1) },
      { kind: 'f' as const, offset: 3, project: 'default', data: feedback('f3', { s: 0.5 }) },
    ];
    const state = new PartitionState(0);
    const first = planBatch(state, batch());
    const again = planBatch(state, batch());
    expect(first.rejected?.map((r) => r.offset)).toEqual([0, 1]);
    expect(again.rejected).toEqual(first.rejected);
    // Nothing of the refused records, and the good ones once.
    expect(again.additions.revisions.map((r) => r.feedbackId)).toEqual([]);
    expect(state.revisions.has('f1')).toBe(false);
    expect(state.requests.has('r0')).toBe(false);
    const buckets = [...state.buckets.values()].filter((b) => b.res === 'm');
    expect(buckets.reduce((n, b) => n + b.generations, 0)).toBe(1);
    expect(buckets.reduce((n, b) => n + (b.scores.s?.n ?? 0), 0)).toBe(1);
  });
});
