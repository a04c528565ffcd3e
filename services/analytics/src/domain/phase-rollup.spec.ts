/**
 * Phase roll-ups written by the planner: once established, the roll-up of each (arm, topic) holds
 * exactly what the minute, hour and day buckets covering [start, ∞) hold, through phase changes,
 * batches cut short between their link and their buckets, and redeliveries of other lengths; a
 * partition whose state is not complete establishes nothing.
 */
import { DDSketch } from '@datadog/sketches-js';
import { mulberry32 } from '@llmops/stats';
import { exposureData, feedbackData, generationData } from '../../test/support/planner';
import { type BatchPlan, type PlannedEvent, planBatch } from './batch-planner';
import { type Bucket, minuteOf, type SourceKind } from './bucket';
import { type JournalAdditions, PartitionState } from './partition-state';
import {
  coverSince,
  emptyPhaseBucket,
  mergeInto,
  PHASE_RES,
  type PhaseLedgerDoc,
  phaseStartMinute,
} from './phase-rollup';

const START = minuteOf('2025-03-01T22:37:00.000Z');
const MINUTES = 3 * 1440;
const KINDS: SourceKind[] = ['x', 'g', 'f'];

/** What the database durably holds of one partition, written in the repository's order. */
class Store {
  buckets = new Map<string, Bucket>();
  journal: JournalAdditions[] = [];
  heads = new Map<SourceKind, number>();
  ledgers: PhaseLedgerDoc[] = [];
  arms = new Map<string, { project: string; exp: string; arm: string }>();

  load(): PartitionState {
    const state = new PartitionState(0);
    for (const [id, b] of this.buckets) state.buckets.set(id, copy(b));
    for (const link of this.journal) state.applyJournal(structuredClone(link));
    for (const [kind, head] of this.heads) {
      state.journalHeads.set(kind, head);
      state.loadedHeads.set(kind, head);
    }
    for (const l of this.ledgers) state.establishPhase(l.exp, l.kind, l.start);
    for (const [id, a] of this.arms) state.addArm(id, a.project, a.exp, a.arm);
    return state;
  }

  /** Link and arms, then the buckets `stored` accepts (all: the batch completes), then the ledgers. */
  write(plan: BatchPlan, kind: SourceKind, lastOffset: number, stored: (b: Bucket) => boolean = () => true) {
    this.journal.push(structuredClone(plan.additions));
    this.heads.set(kind, Math.max(this.heads.get(kind) ?? -1, lastOffset));
    for (const a of plan.arms) this.arms.set(a._id, a);
    let complete = true;
    for (const t of plan.buckets) {
      if (!stored(t.bucket)) {
        complete = false;
        continue;
      }
      // The compare-and-set: a version extends exactly the stored one.
      expect(this.buckets.get(t.bucket._id)?.lastOffset ?? -1).toBe(t.previousLastOffset);
      this.buckets.set(t.bucket._id, copy(t.bucket));
    }
    if (complete) this.ledgers.push(...plan.ledgers);
    return complete;
  }
}

function copy(b: Bucket): Bucket {
  return {
    ...structuredClone({ ...b, latency: null }),
    latency: b.latency ? DDSketch.fromProto(b.latency.toProto()) : null,
  };
}

/** The sum of the minute, hour and day buckets of (arm, kind) that cover [start, ∞). */
function coverOf(buckets: Iterable<Bucket>, arm: string, kind: SourceKind, start: number): Bucket {
  const own = [...buckets].filter((b) => b.arm === arm && b.kind === kind);
  const sum = emptyPhaseBucket('default', 'e', arm, start, kind, 0);
  for (const b of coverSince(own, start)) mergeInto(sum, b);
  return sum;
}

/** What a comparison looks at: counts and integer sums exactly, the latency sketch by its count. */
function summary(b: Bucket | undefined) {
  const v = b ?? emptyPhaseBucket('default', 'e', '?', 0, 'x', 0);
  return {
    exposures: v.exposures,
    generations: v.generations,
    promptTokens: v.promptTokens,
    rating: [v.rating.n, v.rating.sum, v.rating.sumSq],
    thumbs: [v.thumbsUp, v.thumbsDown],
    latency: v.latency?.count ?? 0,
  };
}

/** `n` events of topic `kind` for experiment `e` (arms a and b), offsets 0.., at random minutes. */
function events(kind: SourceKind, n: number, seed: number): PlannedEvent[] {
  const random = mulberry32(seed);
  const out: PlannedEvent[] = [];
  for (let offset = 0; offset < n; offset++) {
    const minute = START + Math.floor(random() * MINUTES);
    const at = new Date(minute * 60_000 + 1_000).toISOString();
    const arm = random() < 0.5 ? 'a' : 'b';
    if (kind === 'x')
      out.push({
        kind,
        offset,
        project: 'default',
        data: { ...exposureData(`u${offset}`, arm), assignedAt: at },
      });
    else if (kind === 'g')
      out.push({
        kind,
        offset,
        project: 'default',
        data: generationData(`r${offset}`, {
          experiment: 'e',
          arm,
          timestamp: at,
          latencyMs: 1 + Math.floor(random() * 3000),
          usage: { promptTokens: offset % 50, completionTokens: 1 },
        }),
      });
    else
      out.push({
        kind,
        offset,
        project: 'default',
        data: feedbackData(`f${offset}`, {
          requestId: `r${offset}`,
          arm,
          timestamp: at,
          rating: 1 + Math.floor(random() * 5),
          thumbs: random() < 0.5 ? 'up' : 'down',
        }),
      });
  }
  return out;
}

describe('phase roll-ups written by the planner', () => {
  it('equal the buckets covering the phase, through phase changes, cut-short batches and redeliveries', () => {
    const random = mulberry32(5);
    const store = new Store();
    const streams = new Map(KINDS.map((k, i) => [k, events(k, 1500, 20 + i)]));
    /** Per topic: the next offset to consume (the committed position). */
    const committed = new Map<SourceKind, number>(KINDS.map((k) => [k, 0]));
    const starts = [START + 100, START + 1500, START + 1500 + 17 * 60 + 3];
    let phase = 0;
    let state = store.load();
    let cut = 0;
    for (let round = 0; [...committed].some(([k, at]) => at < streams.get(k)!.length); round++) {
      if (round % 25 === 24 && phase < starts.length - 1) phase++; // a new phase starts
      const kind = KINDS[Math.floor(random() * KINDS.length)];
      const stream = streams.get(kind)!;
      const from = committed.get(kind)!;
      if (from >= stream.length) continue;
      const batch = stream.slice(from, from + 1 + Math.floor(random() * 60));
      const last = batch[batch.length - 1].offset;
      const start = starts[phase];
      const plan = planBatch(state, batch, (project, exp) => (exp === 'e' ? start : undefined));
      if (random() < 0.15) {
        // Cut short between the link and the buckets: some buckets stored, the state reloaded, and
        // the batch consumed again from the committed offset, maybe with another length.
        store.write(plan, kind, last, () => random() < 0.5);
        cut++;
        state = store.load();
        continue;
      }
      expect(store.write(plan, kind, last)).toBe(true);
      state.expected.set(kind, last + 1);
      state.journalHeads.set(kind, last);
      committed.set(kind, last + 1);
    }
    expect(cut).toBeGreaterThan(10);
    expect(phase).toBe(starts.length - 1);
    const start = starts[phase];
    for (const kind of KINDS) {
      expect(state.phaseStartOf('e', kind)).toBe(start);
      expect(store.ledgers.filter((l) => l.kind === kind).map((l) => l.start)).toContain(start);
      for (const arm of ['a', 'b']) {
        const rollup = [...store.buckets.values()].find(
          (b) => b.res === PHASE_RES && b.arm === arm && b.kind === kind && b.minute === start,
        );
        expect({ kind, arm, ...summary(rollup) }).toEqual({
          kind,
          arm,
          ...summary(coverOf(store.buckets.values(), arm, kind, start)),
        });
        // Not an empty comparison: every topic has data of every arm in the phase.
        expect(summary(rollup)).not.toEqual(summary(undefined));
      }
    }
  });

  it('establishes nothing while the loaded journal head is ahead, and establishes with the batch that reaches it', () => {
    const store = new Store();
    const stream = events('g', 40, 3);
    const start = START;
    // A batch whose link is stored but none of its buckets: the loaded head is 29.
    store.write(planBatch(store.load(), stream.slice(0, 30)), 'g', 29, () => false);
    const state = store.load();
    const phases = () => start;
    const shorter = planBatch(state, stream.slice(0, 20), phases);
    // Not topic g; the partition's other topics, which no record reached (no link, nothing stored),
    // are established with it, with no roll-up.
    expect(shorter.ledgers.map((l) => l.kind).sort()).toEqual(['f', 'x']);
    expect(shorter.buckets.filter((t) => t.bucket.res === PHASE_RES)).toEqual([]);
    store.write(shorter, 'g', 19);
    state.expected.set('g', 20);
    const reaching = planBatch(state, stream.slice(20, 35), phases);
    expect(reaching.ledgers.map((l) => [l.kind, l.start])).toEqual([['g', start]]);
    store.write(reaching, 'g', 34);
    for (const arm of ['a', 'b']) {
      const rollup = reaching.buckets.find((t) => t.bucket.res === PHASE_RES && t.bucket.arm === arm)?.bucket;
      expect(rollup?.lastOffset).toBe(34);
      expect(summary(rollup)).toEqual(summary(coverOf(store.buckets.values(), arm, 'g', start)));
    }
  });

  it('does not establish from buckets another writer extended past the batch (a previous owner still writing)', () => {
    const store = new Store();
    const stream = events('g', 30, 7);
    store.write(planBatch(store.load(), stream.slice(0, 20)), 'g', 19);
    // The previous owner, not yet aware of the rebalance, writes its next batch...
    store.write(planBatch(store.load(), stream.slice(20, 30)), 'g', 29);
    // ...after the new owner read the journal (head 19) and before it read the buckets.
    const state = store.load();
    state.journalHeads.set('g', 19);
    state.loadedHeads.set('g', 19);
    const plan = planBatch(state, stream.slice(10, 20), () => START);
    expect(plan.ledgers.filter((l) => l.kind === 'g')).toEqual([]);
    expect(plan.phasesNotEstablished).toEqual(['e']);
    expect(plan.buckets.filter((t) => t.bucket.res === PHASE_RES)).toEqual([]);
  });

  it('does not establish a start before the established one (a stale read of the experiment)', () => {
    const store = new Store();
    const stream = events('g', 20, 8);
    const first = planBatch(store.load(), stream.slice(0, 10), () => START + 60);
    expect(first.ledgers.map((l) => [l.kind, l.start])).toEqual([
      ['x', START + 60],
      ['g', START + 60],
      ['f', START + 60],
    ]);
    store.write(first, 'g', 9);
    const state = store.load();
    const stale = planBatch(state, stream.slice(10, 20), () => START);
    expect(stale.ledgers).toEqual([]);
    expect(state.phaseStartOf('e', 'g')).toBe(START + 60);
  });

  it("establishes a topic's roll-ups in another topic's batch, as of the last batch of its own", () => {
    const store = new Store();
    const g = events('g', 30, 9);
    const f = events('f', 30, 10);
    // Both topics consumed before the phase start is known.
    let state = store.load();
    for (const [kind, batch] of [
      ['g', g.slice(0, 30)],
      ['f', f.slice(0, 30)],
    ] as const) {
      store.write(planBatch(state, batch), kind, 29);
      state.expected.set(kind, 30);
      state.journalHeads.set(kind, 29);
    }
    // A batch of g learns the start: f, complete as of its last batch (29), is established too.
    const plan = planBatch(state, events('g', 31, 9).slice(30), () => START);
    expect(plan.ledgers.map((l) => l.kind)).toEqual(['x', 'g', 'f']);
    store.write(plan, 'g', 30);
    for (const arm of ['a', 'b']) {
      const rollup = plan.buckets.find(
        (t) => t.bucket.res === PHASE_RES && t.bucket.kind === 'f' && t.bucket.arm === arm,
      );
      expect(rollup?.bucket.lastOffset).toBe(29);
      expect(summary(rollup?.bucket)).toEqual(summary(coverOf(store.buckets.values(), arm, 'f', START)));
      expect(summary(rollup?.bucket)).not.toEqual(summary(undefined));
    }
    // After a reload (links loaded, no batch of f written since), f is not complete: nothing of f.
    state = store.load();
    const reloaded = planBatch(state, events('g', 32, 9).slice(31), () => START + 1);
    expect(reloaded.ledgers.map((l) => l.kind)).toEqual(['x', 'g']);
  });

  it('a phase that never changed starts at minute 0', () => {
    expect(phaseStartMinute(null)).toBe(0);
    expect(phaseStartMinute('2025-03-01T22:37:59.999Z')).toBe(START);
  });
});
