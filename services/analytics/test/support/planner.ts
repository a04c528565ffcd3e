/**
 * Fixtures of the planner specs: event data of experiment `e`, arm `a` at one instant, and a fake of
 * what MongoDB durably holds, from which a fresh partition state is loaded.
 */
import type { ExposureData, FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import type { BatchPlan, PlannedEvent, TouchedBucket } from '../../src/domain/batch-planner';
import { addValues, type Bucket, type BucketValues, emptyValues } from '../../src/domain/bucket';
import { type JournalAdditions, PartitionState, type PendingDoc } from '../../src/domain/partition-state';
import type { ExperimentDoc } from '../../src/persistence/analytics.schemas';

export const T = '2025-01-01T10:00:30.000Z';

/**
 * Experiment `e` of project `default` as the results and decisions read it: running, arms `A`
 * (control) and `B` of equal weight, phase 1 since ever; `fields` replaces any of that.
 */
export const experimentDoc = (fields: Partial<ExperimentDoc> = {}): ExperimentDoc => ({
  _id: 'e',
  project: 'default',
  key: 'e',
  revision: 1,
  status: 'running',
  control: 'A',
  arms: [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 1 },
  ],
  phase: 1,
  phaseStartedAt: null,
  stoppedAt: null,
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...fields,
});

export const exposureData = (userId: string, arm = 'a'): ExposureData => ({
  experiment: 'e',
  phase: 1,
  arm,
  userId,
  prompt: { name: 'p', hash: 'a'.repeat(64) },
  hashVersion: 1,
  reason: 'hash',
  assignedAt: T,
});

export const generationData = (
  requestId: string,
  fields: Partial<GenerationLoggedData> = {},
): GenerationLoggedData => ({
  requestId,
  model: 'm',
  output: 'o',
  latencyMs: 100,
  costUsd: 0.5,
  usage: { promptTokens: 3, completionTokens: 4 },
  timestamp: T,
  receivedAt: T,
  ...fields,
});

/** Revision 1 unless `fields` says otherwise; `named`: it names experiment `e` and arm `a`. */
export function feedbackData(
  feedbackId: string,
  fields: Partial<FeedbackSubmittedData> = {},
  named = true,
): FeedbackSubmittedData {
  const revision = fields.revision ?? 1;
  return {
    feedbackId,
    requestId: `r-${feedbackId}`,
    ...(named ? { experiment: 'e', arm: 'a' } : {}),
    ratingScale: { min: 1, max: 5 },
    source: 'user',
    timestamp: T,
    receivedAt: T,
    revision,
    edit: revision === 1 ? null : { previousRevision: revision - 1 },
    ...fields,
  };
}

export const x = (offset: number, userId: string): PlannedEvent => ({
  kind: 'x',
  offset,
  project: 'default',
  data: exposureData(userId),
});
export const f = (offset: number, data: FeedbackSubmittedData): PlannedEvent => ({
  kind: 'f',
  offset,
  project: 'default',
  data,
});

/** Simulates MongoDB: what was durably written, from which a fresh state can be loaded. */
export class FakeStore {
  buckets = new Map<string, Bucket>();
  /** The journal links written, in order. */
  journal: JournalAdditions[] = [];
  pending = new Map<string, PendingDoc>();
  load(): PartitionState {
    const s = new PartitionState(0);
    for (const [id, b] of this.buckets) s.buckets.set(id, structuredClone({ ...b, latency: null }));
    for (const p of this.pending.values()) s.addPending(structuredClone(p));
    for (const link of this.journal) s.applyJournal(structuredClone(link));
    // Like the repository's load: resolved parked documents a crash left behind are deleted.
    for (const id of s.dropPending(new Set(this.journal.flatMap((link) => link.resolved))))
      this.pending.delete(id);
    return s;
  }
  /**
   * Applies a plan in the repository's order: journal link and parked feedback, buckets, then the
   * deletion of resolved parked feedback. `crash`: true stops after the first step; a function
   * stores only the buckets it accepts, then stops (a crash part-way through the bucket write).
   */
  apply(plan: BatchPlan, crash: boolean | ((t: TouchedBucket) => boolean) = false): void {
    this.journal.push(structuredClone(plan.additions));
    plan.pending.forEach((d) => this.pending.set(d._id, structuredClone(d)));
    if (crash === true) return;
    for (const t of plan.buckets) {
      if (typeof crash === 'function' && !crash(t)) continue;
      const stored = this.buckets.get(t.bucket._id);
      // The compare-and-set: a version extends exactly the stored one (its id names that base).
      expect(stored?.lastOffset ?? -1).toBe(t.previousLastOffset);
      this.buckets.set(t.bucket._id, structuredClone({ ...t.bucket, latency: null }));
    }
    if (crash) return;
    plan.additions.resolved.forEach((id) => this.pending.delete(id));
  }
  /** The minute buckets (each hour and day bucket repeats what its minutes hold). */
  minutes(): Bucket[] {
    return [...this.buckets.values()].filter((b) => (b.res ?? 'm') === 'm');
  }
  total(field: 'exposures' | 'generations'): number {
    return this.minutes().reduce((s, b) => s + b[field], 0);
  }
  rating(): { n: number; sum: number } {
    const { n, sum } = this.merged().rating;
    return { n, sum };
  }
  /** The buckets of one experiment merged: what the results read. */
  merged(exp = 'e'): BucketValues {
    const out = emptyValues();
    for (const b of this.minutes()) if (b.exp === exp) addValues(out, b);
    return out;
  }
}
