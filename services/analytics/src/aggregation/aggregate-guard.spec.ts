import type { FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import { latencyRefusal, nonFiniteField } from './aggregate-guard';
import { planBatch } from './batch-planner';
import { emptyValues } from './bucket';
import { PartitionState } from './partition-state';

const T = '2025-01-01T10:00:30.000Z';
const generation = (requestId: string, costUsd: number, latencyMs = 100): GenerationLoggedData => ({
  requestId,
  experiment: 'e',
  arm: 'a',
  model: 'm',
  output: 'o',
  latencyMs,
  costUsd,
  usage: { promptTokens: 3, completionTokens: 4 },
  timestamp: T,
  receivedAt: T,
});
const feedback = (fid: string, scores: Record<string, number>, named = true): FeedbackSubmittedData => ({
  feedbackId: fid,
  requestId: `r-${fid}`,
  ...(named ? { experiment: 'e', arm: 'a' } : {}),
  scores,
  ratingScale: { min: 1, max: 5 },
  source: 'judge',
  timestamp: T,
  receivedAt: T,
  revision: 1,
  edit: null,
});

describe('nonFiniteField', () => {
  it('accepts a finite sum and names the first summary that would not be finite', () => {
    const into = emptyValues();
    const delta = emptyValues();
    delta.costSum = 1e308;
    expect(nonFiniteField(into, delta)).toBeNull();
    into.costSum = 1e308;
    expect(nonFiniteField(into, delta)).toBe('costSum');
    const score = emptyValues();
    score.scores['tone%2Efriendly'] = { n: 1, sum: 1e200, sumSq: Infinity };
    expect(nonFiniteField(undefined, score)).toBe('scores.tone.friendly.sumSq');
    const nan = emptyValues();
    nan.rating = { n: 1, sum: NaN, sumSq: 0 };
    expect(nonFiniteField(undefined, nan)).toBe('rating.sum');
  });

  it('refuses latencies the sketch cannot index', () => {
    expect(latencyRefusal(1_000)).toBeNull();
    expect(latencyRefusal(Infinity)).toMatch(/latencyMs Infinity/);
    expect(latencyRefusal(-1)).toMatch(/latencyMs -1/);
    expect(latencyRefusal(NaN)).toMatch(/latencyMs NaN/);
  });
});

describe('planBatch refuses poison before it changes anything', () => {
  it('rejects a generation whose cost would overflow the bucket sum, and applies the rest', () => {
    const state = new PartitionState(0);
    const plan = planBatch(state, [
      { kind: 'g', offset: 0, data: generation('r0', 1e308) },
      { kind: 'g', offset: 1, data: generation('r1', 1e308) },
      { kind: 'g', offset: 2, data: generation('r2', Infinity) },
      { kind: 'g', offset: 3, data: generation('r3', 1, Infinity) },
      { kind: 'g', offset: 4, data: generation('r4', 1) },
    ]);
    expect(plan.rejected?.map((r) => r.offset)).toEqual([1, 2, 3]);
    expect(plan.rejected?.[0].reason).toBe('aggregate costSum of e/a would not be a finite number');
    expect(plan.rejected?.[2].reason).toMatch(/latencyMs Infinity cannot be summarized/);
    expect(plan.outcomes.map((o) => o.outcome)).toEqual([
      'applied',
      'rejected',
      'rejected',
      'rejected',
      'applied',
    ]);
    // No trace of the refused ones: no request document, no contribution.
    expect(plan.requests.map((r) => r._id)).toEqual(['r0', 'r4']);
    const [bucket] = plan.buckets.map((t) => t.bucket);
    expect(bucket.generations).toBe(2);
    expect(bucket.costSum).toBe(1e308 + 1);
    expect(bucket.lastOffset).toBe(4);
  });

  it('rejects feedback whose own scores are not finite, named or parked, without state documents', () => {
    const state = new PartitionState(0);
    const plan = planBatch(state, [
      { kind: 'f', offset: 0, data: feedback('f0', { s: 1e200 }) },
      { kind: 'f', offset: 1, data: feedback('f1', { s: 1e200 }, false) },
      { kind: 'f', offset: 2, data: feedback('f2', { s: 0.5 }) },
    ]);
    expect(plan.rejected).toEqual([
      { offset: 0, reason: 'feedback scores.s.sumSq would not be a finite number' },
      { offset: 1, reason: 'feedback scores.s.sumSq would not be a finite number' },
    ]);
    expect(plan.revisions.map((r) => r.fid)).toEqual(['f2']);
    expect(plan.pending).toEqual([]);
    expect(state.pendingIds.size).toBe(0);
    expect(plan.buckets[0].bucket.scores.s).toEqual({ n: 1, sum: 0.5, sumSq: 0.25 });
  });

  it('rejects feedback whose scores would overflow the bucket sum of squares', () => {
    const state = new PartitionState(0);
    const plan = planBatch(state, [
      { kind: 'f', offset: 0, data: feedback('f0', { s: 1e154 }) },
      { kind: 'f', offset: 1, data: feedback('f1', { s: 1e154 }) },
      { kind: 'f', offset: 2, data: feedback('f2', { s: 1e154 }) },
    ]);
    // 3e308 overflows; 2e308 too (the largest double is ~1.8e308): only the first is applied.
    expect(plan.rejected?.map((r) => [r.offset, r.reason])).toEqual([
      [1, 'aggregate scores.s.sumSq of e/a would not be a finite number'],
      [2, 'aggregate scores.s.sumSq of e/a would not be a finite number'],
    ]);
    expect(plan.revisions.map((r) => r.fid)).toEqual(['f0']);
    expect(state.revisions.has('f1')).toBe(false);
  });

  it('never refuses a redelivered message whose contribution is already included', () => {
    const state = new PartitionState(0);
    planBatch(state, [{ kind: 'g', offset: 0, data: generation('r0', 1e308) }]);
    // The bucket already includes offset 0 (as after a crash before the commit): nothing to add.
    const again = planBatch(state, [{ kind: 'g', offset: 0, data: generation('r0', 1e308) }]);
    expect(again.rejected).toEqual([]);
  });
});
