import { feedbackData, generationData } from '../../test/support/planner';
import { type PlannedEvent, planBatch } from '../domain/batch-planner';
import { PartitionState } from '../domain/partition-state';
import { parkedCutoff } from './parked-retention.scheduler';

const NOW = Date.parse('2025-01-08T10:00:00.000Z');
const OLD = '2024-12-31T09:59:59.999Z';
const FRESH = '2025-01-08T09:59:00.000Z';

/** Feedback naming no arm, received at `receivedAt`, for request `r-<fid>`. */
const parked = (offset: number, fid: string, receivedAt: string, rating: number): PlannedEvent => ({
  kind: 'f',
  offset,
  project: 'default',
  data: feedbackData(fid, { rating, receivedAt }, false),
});
const generation = (offset: number, fid: string): PlannedEvent => ({
  kind: 'g',
  offset,
  project: 'default',
  data: generationData(`r-${fid}`, { experiment: 'e', arm: 'a' }),
});
const resolved = (events: PlannedEvent[], state: PartitionState) =>
  planBatch(state, events).outcomes.filter((o) => o.type === 'feedback' && o.outcome === 'resolved').length;

describe('parked feedback retention', () => {
  it('the cutoff is the retention before now, as an ISO time', () => {
    expect(parkedCutoff(NOW, 168)).toBe('2025-01-01T10:00:00.000Z');
    expect(parkedCutoff(NOW, 1)).toBe('2025-01-08T09:00:00.000Z');
  });

  it('forgets only the parked feedback received before the cutoff; a later generation does not apply it', () => {
    const state = new PartitionState(0);
    const cutoff = parkedCutoff(NOW, 168);
    const plan = planBatch(state, [
      parked(0, 'old', OLD, 1),
      parked(1, 'old', OLD, 1), // the same feedback sent twice: two parked copies
      parked(2, 'edge', cutoff, 2), // exactly at the cutoff: kept
      parked(3, 'fresh', FRESH, 5),
    ]);
    expect(plan.pending).toHaveLength(4);

    expect(state.forgetParkedBefore(cutoff)).toBe(2);
    expect([...state.pendingIds].sort()).toEqual(['f:0:2', 'f:0:3']);
    expect(state.pendingByRequest.has('r-old')).toBe(false);
    expect(state.forgetParkedBefore(cutoff)).toBe(0);

    expect(resolved([generation(0, 'old')], state)).toBe(0);
    expect(resolved([generation(1, 'fresh'), generation(2, 'edge')], state)).toBe(2);
  });

  it('a forgotten feedback consumed again is parked again (the next sweep deletes it)', () => {
    const state = new PartitionState(0);
    planBatch(state, [parked(0, 'old', OLD, 1)]);
    state.forgetParkedBefore(parkedCutoff(NOW, 168));
    expect(planBatch(state, [parked(0, 'old', OLD, 1)]).pending.map((p) => p._id)).toEqual(['f:0:0']);
  });
});
