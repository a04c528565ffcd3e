/**
 * Hour and day roll-ups: every contribution is in its minute, hour and day bucket exactly once (also
 * after partial writes and redelivery), and the buckets `coverWindow` names merge to what the window's
 * minute buckets merge to.
 */
import { DDSketch } from '@datadog/sketches-js';
import { mulberry32 } from '@llmops/stats';
import { feedbackData, generationData } from '../../test/support/planner';
import { type PlannedEvent, planBatch } from './batch-planner';
import {
  addValues,
  type Bucket,
  type BucketValues,
  bucketId,
  coverWindow,
  emptyValues,
  minuteOf,
  newSketch,
  type Resolution,
  SPAN_MINUTES,
  type SpanRange,
} from './bucket';
import { PartitionState } from './partition-state';

const START = minuteOf('2025-03-01T22:37:00.000Z');
const DAYS = 3;
const MINUTES = DAYS * 1440;

/** Each minute of [from, to) is in exactly one range, and each range is aligned to its resolution. */
function expectExactCover(
  from: number,
  to: number,
  ranges: SpanRange[],
  minutesOnly?: [number, number],
): void {
  const misplaced = ranges.filter(
    ({ res, from: a, to: b }) =>
      a >= b ||
      (res !== 'm' && (a % SPAN_MINUTES[res] !== 0 || b % SPAN_MINUTES[res] !== 0)) ||
      (res !== 'm' &&
        minutesOnly &&
        minutesOnly[0] < minutesOnly[1] &&
        b > minutesOnly[0] &&
        a < minutesOnly[1]),
  );
  expect(misplaced).toEqual([]);
  // Sorted, the ranges must tile [from, to): each starts where the previous ended.
  const sorted = [...ranges].sort((x, y) => x.from - y.from);
  let at = from;
  for (const r of sorted) {
    if (r.from !== at) break;
    at = r.to;
  }
  expect({ from, to, reached: at }).toEqual({ from, to, reached: to });
}

describe('coverWindow', () => {
  it('covers random windows exactly once with whole days, then hours, then minutes at the edges', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const from = START + Math.floor(random() * MINUTES);
      const to = from + Math.floor(random() * MINUTES);
      const ranges = coverWindow(from, to);
      expectExactCover(from, to, ranges);
      // Coarsest first: at most 59 minutes and 23 hours on each side of the days.
      const count = (res: Resolution) =>
        ranges.filter((r) => r.res === res).reduce((n, r) => n + r.to - r.from, 0);
      expect(count('m')).toBeLessThanOrEqual(2 * 59);
      expect(count('h')).toBeLessThanOrEqual(2 * 23 * 60);
      const legacy: [number, number] = [
        from + Math.floor(random() * (to - from + 1)),
        from + Math.floor(random() * (to - from + 1)),
      ];
      legacy.sort((a, b) => a - b);
      expectExactCover(from, to, coverWindow(from, to, legacy), legacy);
    }
  });

  it('covers open windows with a bounded number of ranges', () => {
    const ranges = coverWindow(START, Number.MAX_SAFE_INTEGER);
    expect(ranges.map((r) => r.res).slice(0, 3)).toEqual(['m', 'h', 'd']);
    expect(ranges[2].to).toBe(Number.MAX_SAFE_INTEGER - (Number.MAX_SAFE_INTEGER % 1440));
    expect(ranges.length).toBeLessThanOrEqual(5);
    expect(coverWindow(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(5);
  });
});

describe('roll-ups written by the planner', () => {
  /** What the store durably holds: buckets by id, each with its own copy of its sketch. */
  const stored = new Map<string, Bucket>();
  const copy = (b: Bucket): Bucket => ({
    ...structuredClone({ ...b, latency: null }),
    latency: b.latency ? DDSketch.fromProto(b.latency.toProto()) : null,
  });
  const load = (): PartitionState => {
    const state = new PartitionState(0);
    for (const [id, b] of stored) state.buckets.set(id, copy(b));
    return state;
  };
  const truth = new Map<string, BucketValues>();

  beforeAll(() => {
    const random = mulberry32(11);
    const events: PlannedEvent[] = [];
    for (let offset = 0; offset < 2000; offset++) {
      const minute = START + Math.floor(random() * MINUTES);
      const timestamp = new Date(minute * 60_000 + 1_000).toISOString();
      const arm = random() < 0.5 ? 'a' : 'b';
      if (random() < 0.6) {
        const latencyMs = 1 + Math.floor(random() * 5000);
        events.push({
          kind: 'g',
          offset,
          project: 'default',
          data: generationData(`r${offset}`, {
            experiment: 'e',
            arm,
            timestamp,
            latencyMs,
            costUsd: random(),
          }),
        });
      } else {
        events.push({
          kind: 'f',
          offset,
          project: 'default',
          data: feedbackData(`f${offset}`, { arm, timestamp, rating: 1 + Math.floor(random() * 5) }),
        });
      }
    }
    // Batches of one topic each (the planner's contract); some are written partially (a crash in
    // the middle of an unordered insert) and then redelivered to a freshly loaded state.
    for (const kind of ['g', 'f'] as const) {
      const ofKind = events.filter((e) => e.kind === kind);
      for (let i = 0; i < ofKind.length; i += 150) {
        const batch = ofKind.slice(i, i + 150);
        if (random() < 0.4) {
          for (const t of planBatch(load(), batch).buckets)
            if (random() < 0.5) stored.set(t.bucket._id, copy(t.bucket));
        }
        for (const t of planBatch(load(), batch).buckets) {
          expect(stored.get(t.bucket._id)?.lastOffset ?? -1).toBe(t.previousLastOffset);
          stored.set(t.bucket._id, copy(t.bucket));
        }
      }
    }
    // What each minute holds, computed from the events themselves.
    const fresh = new PartitionState(0);
    for (const kind of ['g', 'f'] as const) {
      for (const t of planBatch(
        fresh,
        events.filter((e) => e.kind === kind),
      ).buckets) {
        if (t.bucket.res === 'm') truth.set(t.bucket._id, structuredClone({ ...t.bucket, latency: null }));
      }
    }
  });

  const merge = (buckets: Bucket[]) => {
    const values = emptyValues();
    const latency = newSketch();
    for (const b of buckets) {
      addValues(values, b);
      if (b.latency) latency.merge(b.latency);
    }
    return { values, latency };
  };
  const minutesIn = (from: number, to: number) =>
    [...stored.values()].filter((b) => b.res === 'm' && b.minute >= from && b.minute < to);
  const covering = (ranges: SpanRange[]) =>
    [...stored.values()].filter((b) =>
      ranges.some((r) => (b.res ?? 'm') === r.res && b.minute >= r.from && b.minute < r.to),
    );

  it('holds every contribution once per resolution, partial writes and redelivery included', () => {
    const minutes = [...stored.values()].filter((b) => b.res === 'm');
    expect(minutes.length).toBe(truth.size);
    for (const b of minutes) {
      const t = truth.get(b._id);
      expect([b.generations, b.rating.n, b.rating.sum]).toEqual([t?.generations, t?.rating.n, t?.rating.sum]);
    }
    // Each hour and day bucket is the sum of its minutes.
    for (const b of stored.values()) {
      if (b.res === 'm' || b.res === 'p') continue;
      const { values } = merge(
        minutesIn(b.minute, b.minute + SPAN_MINUTES[b.res ?? 'm']).filter(
          (m) => m.arm === b.arm && m.kind === b.kind,
        ),
      );
      expect([b.generations, b.rating.n, b.rating.sum, b.promptTokens]).toEqual([
        values.generations,
        values.rating.n,
        values.rating.sum,
        values.promptTokens,
      ]);
      expect(b.costSum).toBeCloseTo(values.costSum, 9);
    }
    expect(bucketId('e', 'a', START, 'g', 0, 'h')).toBe(`e|a|h${START - (START % 60)}|g|0`);
    expect(bucketId('e', 'a', START, 'g', 0)).toBe(`e|a|${START}|g|0`);
  });

  it('merges to the minute-only sum over random windows', () => {
    const random = mulberry32(13);
    for (let i = 0; i < 200; i++) {
      const from = START - 30 + Math.floor(random() * (MINUTES + 60));
      const to = from + Math.floor(random() * (MINUTES - (from - START) + 60));
      const rolled = merge(covering(coverWindow(from, to)));
      const minutes = merge(minutesIn(from, to));
      const { values: r } = rolled;
      const { values: m } = minutes;
      expect([
        r.generations,
        r.rating.n,
        r.rating.sum,
        r.rating.sumSq,
        r.promptTokens,
        r.completionTokens,
      ]).toEqual([
        m.generations,
        m.rating.n,
        m.rating.sum,
        m.rating.sumSq,
        m.promptTokens,
        m.completionTokens,
      ]);
      expect(r.costSum).toBeCloseTo(m.costSum, 9);
      expect(r.latencyMoments?.sumSq ?? 0).toBeCloseTo(m.latencyMoments?.sumSq ?? 0, 3);
      expect(rolled.latency.count).toBe(minutes.latency.count);
      if (minutes.latency.count > 0) {
        for (const q of [0.5, 0.95, 0.99])
          expect(rolled.latency.getValueAtQuantile(q)).toBe(minutes.latency.getValueAtQuantile(q));
      }
    }
  });
});
