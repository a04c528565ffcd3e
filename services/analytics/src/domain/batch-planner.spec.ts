import type { ExposureData, FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import { type PlannedEvent, planBatch } from './batch-planner';
import type { Bucket } from './bucket';
import { PartitionState } from './partition-state';

const T = '2025-01-01T10:00:30.000Z';
const exposure = (userId: string, arm = 'a'): ExposureData => ({
  experiment: 'e',
  phase: 1,
  arm,
  userId,
  prompt: { name: 'p', hash: 'a'.repeat(64) },
  hashVersion: 1,
  reason: 'hash',
  assignedAt: T,
});
const generation = (requestId: string, arm?: string): GenerationLoggedData => ({
  requestId,
  ...(arm ? { experiment: 'e', arm } : {}),
  model: 'm',
  output: 'o',
  latencyMs: 100,
  costUsd: 0.5,
  usage: { promptTokens: 3, completionTokens: 4 },
  timestamp: T,
  receivedAt: T,
});
const feedback = (
  fid: string,
  revision: number,
  rating: number,
  named = true,
  requestId = `r-${fid}`,
): FeedbackSubmittedData => ({
  feedbackId: fid,
  requestId,
  ...(named ? { experiment: 'e', arm: 'a' } : {}),
  rating,
  ratingScale: { min: 1, max: 5 },
  source: 'user',
  timestamp: T,
  receivedAt: T,
  revision,
  edit: revision === 1 ? null : { previousRevision: revision - 1 },
});

/** Simulates MongoDB: what was durably written, from which a fresh state can be loaded. */
class FakeStore {
  buckets = new Map<string, Bucket>();
  state = new PartitionState(0);
  load(): PartitionState {
    const s = new PartitionState(0);
    for (const [id, b] of this.buckets) s.buckets.set(id, structuredClone({ ...b, latency: null }));
    for (const [k, v] of this.state.seen) s.seen.set(k, v);
    for (const [k, v] of this.state.requests) s.requests.set(k, v);
    for (const list of this.state.revisions.values()) list.forEach((r) => s.addRevision(r));
    for (const list of this.state.pendingByRequest.values()) list.forEach((p) => s.addPending(p));
    return s;
  }
  /** Applies a plan; `crashBeforeBuckets` keeps only the state inserts (crash between the two writes). */
  apply(plan: ReturnType<typeof planBatch>, crashBeforeBuckets = false): void {
    plan.seen.forEach((d) => this.state.seen.set(d._id, d));
    plan.requests.forEach((d) => this.state.requests.set(d._id, d));
    plan.revisions.forEach((d) => this.state.addRevision(d));
    plan.pending.forEach((d) => this.state.addPending(d));
    if (crashBeforeBuckets) return;
    for (const t of plan.buckets) {
      const stored = this.buckets.get(t.bucket._id);
      // The compare-and-set: a version extends exactly the stored one (its id names that base).
      expect(stored?.lastOffset ?? -1).toBe(t.previousLastOffset);
      this.buckets.set(t.bucket._id, structuredClone({ ...t.bucket, latency: null }));
    }
  }
  total(field: 'exposures' | 'generations'): number {
    return [...this.buckets.values()].reduce((s, b) => s + b[field], 0);
  }
  rating(): { n: number; sum: number } {
    let n = 0;
    let sum = 0;
    for (const b of this.buckets.values()) {
      n += b.rating.n;
      sum += b.rating.sum;
    }
    return { n, sum };
  }
}

const x = (offset: number, userId: string): PlannedEvent => ({ kind: 'x', offset, data: exposure(userId) });
const f = (offset: number, data: FeedbackSubmittedData): PlannedEvent => ({ kind: 'f', offset, data });

describe('planBatch (exactly-once core)', () => {
  it('counts distinct users once, also when a crash hit between the state and the bucket write', () => {
    const store = new FakeStore();
    const batch = [x(0, 'u1'), x(1, 'u2'), x(2, 'u1')];
    store.apply(planBatch(store.load(), batch), true); // crash: seen docs written, buckets not
    store.apply(planBatch(store.load(), batch)); // redelivery of the same batch
    expect(store.total('exposures')).toBe(2);
    // A redelivery with DIFFERENT boundaries (a shorter batch, then the rest) changes nothing.
    store.apply(planBatch(store.load(), batch.slice(0, 2)));
    store.apply(planBatch(store.load(), [...batch.slice(2), x(3, 'u3')]));
    expect(store.total('exposures')).toBe(3);
  });

  it('never applies a message twice to a bucket (offset guard)', () => {
    const store = new FakeStore();
    const g = (offset: number): PlannedEvent => ({ kind: 'g', offset, data: generation(`r${offset}`, 'a') });
    store.apply(planBatch(store.load(), [g(0), g(1), g(2)]));
    store.apply(planBatch(store.load(), [g(1), g(2), g(3)]));
    expect(store.total('generations')).toBe(4);
  });

  it('edits replace, duplicates and stale revisions are ignored', () => {
    const store = new FakeStore();
    store.apply(planBatch(store.load(), [f(0, feedback('fb', 1, 2)), f(1, feedback('fb', 1, 2))]));
    expect(store.rating()).toEqual({ n: 1, sum: 2 });
    store.apply(planBatch(store.load(), [f(2, feedback('fb', 2, 5))]), true); // crash after state write
    store.apply(planBatch(store.load(), [f(2, feedback('fb', 2, 5)), f(3, feedback('fb', 1, 1))]));
    expect(store.rating()).toEqual({ n: 1, sum: 5 });
  });

  it('parks feedback naming no arm until its generation arrives, then counts it once', () => {
    const store = new FakeStore();
    const fb = feedback('late', 1, 4, false, 'req-1');
    store.apply(planBatch(store.load(), [f(0, fb), f(1, fb)]));
    expect(store.rating().n).toBe(0);
    const gen: PlannedEvent = { kind: 'g', offset: 0, data: generation('req-1', 'b') };
    store.apply(planBatch(store.load(), [gen]), true); // crash after the revision was recorded
    store.apply(planBatch(store.load(), [gen]));
    expect(store.rating()).toEqual({ n: 1, sum: 4 });
    expect([...store.buckets.values()].find((b) => b.rating.n === 1)?.arm).toBe('b');
  });
});
