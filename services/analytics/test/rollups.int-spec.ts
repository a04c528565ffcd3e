/**
 * Hour and day roll-ups against the real MongoDB-wire server: buckets planned and written as the
 * consumer writes them (planner + the server's BucketStore), then read through
 * `AggregationRepository.bucketsInWindow`, which covers a window with days, hours and edge minutes.
 * Merged, they equal the window's minute buckets merged, also where minute buckets stored before
 * roll-ups existed (no `res`, no hour or day bucket holding them) lie inside the window.
 */
import { mongoServerKind } from '@llmops/platform';
import { mulberry32 } from '@llmops/stats';
import { testInfra } from '@llmops/testing';
import type { Model } from 'mongoose';
import { type PlannedEvent, planBatch, type TouchedBucket } from '../src/domain/batch-planner';
import { type Bucket, emptyBucket, minuteOf } from '../src/domain/bucket';
import { PartitionState } from '../src/domain/partition-state';
import type { AggregationRepository } from '../src/persistence/aggregation.repository';
import type { StoredBucket } from '../src/persistence/analytics.schemas';
import { type BucketStore, fromStored, latestVersions } from '../src/persistence/bucket-store';
import { PlainBucketStore } from '../src/persistence/plain-bucket.store';
import { collectionFor } from '../src/persistence/read-path';
import { VersionedBucketStore } from '../src/persistence/versioned-bucket.store';
import { mergeArms } from '../src/results/compute-results';
import { feedbackData, generationData } from './support/planner';
import { openTestPersistence, type TestPersistence } from './support/persistence';

// Each test makes a few dozen reads, each a collection scan on FerretDB: hence their longer timeouts.

const START = minuteOf('2025-03-01T22:37:00.000Z');
const MINUTES = 3 * 1440;
const PARTS = 3;
const ARMS = new Set(['a', 'b']);

let persistence: TestPersistence;
let buckets: Model<StoredBucket>;
let repo: AggregationRepository;
let store: BucketStore;
/** Per partition: what its consumer holds in memory (the buckets written so far). */
const states = new Map<number, PartitionState>();

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
  ({ buckets } = persistence);
  repo = persistence.aggregation();
  store =
    (await mongoServerKind(persistence.connection)) === 'mongodb'
      ? new PlainBucketStore(buckets)
      : new VersionedBucketStore(buckets, 2_000);
});

afterAll(() => persistence?.drop());

/** Plans `events` (one topic, in offset order) on partition `part` and writes its buckets. */
async function consume(part: number, events: PlannedEvent[]): Promise<void> {
  const state = states.get(part) ?? new PartitionState(part);
  states.set(part, state);
  const touched: TouchedBucket[] = planBatch(state, events).buckets;
  for (let i = 0; i < touched.length; i += 500) await store.write(touched.slice(i, i + 500));
}

/** Random generations and named feedback of `exp` over three days, spread over the partitions. */
async function load(exp: string, seed: number, count: number, minutes: () => number): Promise<void> {
  const random = mulberry32(seed);
  const perPart = new Map<string, PlannedEvent[]>();
  for (let i = 0; i < count; i++) {
    const part = Math.floor(random() * PARTS);
    const arm = random() < 0.5 ? 'a' : 'b';
    const timestamp = new Date(minutes() * 60_000 + 5_000).toISOString();
    const kind = random() < 0.6 ? 'g' : 'f';
    const list = perPart.get(`${kind}${part}`) ?? [];
    perPart.set(`${kind}${part}`, list);
    const offset = 1_000 + i; // above every legacy bucket's lastOffset
    list.push(
      kind === 'g'
        ? {
            kind,
            offset,
            project: 'default',
            data: generationData(`${exp}-r${i}`, {
              experiment: exp,
              arm,
              timestamp,
              latencyMs: 1 + Math.floor(random() * 3000),
              costUsd: random(),
            }),
          }
        : {
            kind,
            offset,
            project: 'default',
            data: feedbackData(`${exp}-f${i}`, {
              experiment: exp,
              arm,
              timestamp,
              rating: 1 + Math.floor(random() * 5),
            }),
          },
    );
  }
  for (const [key, events] of perPart) {
    // Batches of 60, as the consumer would receive them.
    for (let i = 0; i < events.length; i += 60) await consume(Number(key.slice(1)), events.slice(i, i + 60));
  }
}

/** The window's minute buckets only (what results read before roll-ups). */
async function minuteBuckets(exp: string, from: number, to: number): Promise<Bucket[]> {
  const docs = await collectionFor(buckets, 'background')
    .find({ project: 'default', exp, res: { $nin: ['h', 'd'] }, minute: { $gte: from, $lt: to } })
    .toArray();
  return latestVersions(docs).map(fromStored);
}

/** Merged per arm, as the results merge them; sums compared to 9 digits, sketches by quantiles. */
function expectSameResults(rolled: Bucket[], minutes: Bucket[]): void {
  const r = mergeArms(rolled, ARMS);
  const m = mergeArms(minutes, ARMS);
  expect([...r.keys()].sort()).toEqual([...m.keys()].sort());
  for (const [arm, got] of r) {
    const want = m.get(arm);
    if (!want) throw new Error(`arm ${arm} missing`);
    const { values: g } = got;
    const { values: w } = want;
    expect([g.generations, g.rating.n, g.rating.sum, g.rating.sumSq, g.promptTokens]).toEqual([
      w.generations,
      w.rating.n,
      w.rating.sum,
      w.rating.sumSq,
      w.promptTokens,
    ]);
    expect(g.costSum).toBeCloseTo(w.costSum, 9);
    expect(g.latencyMoments?.sum ?? 0).toBe(w.latencyMoments?.sum ?? 0);
    expect(got.latency?.count ?? 0).toBe(want.latency?.count ?? 0);
    for (const q of [0.5, 0.99])
      expect(got.latency?.getValueAtQuantile(q)).toBe(want.latency?.getValueAtQuantile(q));
  }
}

it('reads a window from days, hours and edge minutes, and merges to what its minute buckets merge to', async () => {
  const random = mulberry32(5);
  await load('rolled', 1, 1200, () => START + Math.floor(random() * MINUTES));
  const stored = await collectionFor(buckets, 'background').find({ exp: 'rolled' }).toArray();
  expect(new Set(stored.map((d) => d.res))).toEqual(new Set(['m', 'h', 'd']));

  const windows: Array<[number, number]> = [
    [START - 10, Number.MAX_SAFE_INTEGER], // window=all: open end
    [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], // uncounted arms: everything
    [START + 1500, START + 1501], // one minute
  ];
  for (let i = 0; i < 8; i++) {
    const from = START + Math.floor(random() * MINUTES);
    windows.push([from, from + 1 + Math.floor(random() * (START + MINUTES - from))]);
  }
  for (const [from, to] of windows) {
    const rolled = await repo.bucketsInWindow('default', 'rolled', from, to, 'background');
    const minutes = await minuteBuckets('rolled', from, to);
    expectSameResults(rolled, minutes);
    if (to - from > 2 * 1440) expect(rolled.length).toBeLessThan(minutes.length / 2);
  }
  // One arm only (the uncounted-arms read).
  const armA = await repo.bucketsInWindow('default', 'rolled', START, START + MINUTES, 'background', 'a');
  expect(new Set(armA.map((b) => b.arm))).toEqual(new Set(['a']));
  expectSameResults(
    armA,
    (await minuteBuckets('rolled', START, START + MINUTES)).filter((b) => b.arm === 'a'),
  );
});

it('reads minutes wherever minute buckets stored before roll-ups lie, so windows reaching into them stay exact', async () => {
  // Day 1 was written by a build without roll-ups: minute buckets without `res`, no hours or days.
  const legacyEnd = START + 1440;
  const random = mulberry32(9);
  const legacy: TouchedBucket[] = [];
  for (let i = 0; i < 150; i++) {
    const minute = START + Math.floor(random() * 1440);
    const { res: _res, ...bucket } = emptyBucket(
      'default',
      'upgraded',
      random() < 0.5 ? 'a' : 'b',
      minute,
      'g',
      i % PARTS,
    );
    const id = bucket._id;
    if (legacy.some((t) => t.bucket._id === id)) continue;
    const old: Bucket = { ...bucket, generations: 2, promptTokens: 6, lastOffset: 10 + i };
    legacy.push({ bucket: old, previousLastOffset: -1 });
    // The upgraded consumer loads them with its partition.
    const state = states.get(old.part) ?? new PartitionState(old.part);
    states.set(old.part, state);
    state.buckets.set(id, { ...old });
  }
  await store.write(legacy);
  // After the upgrade: events in the last hours of day 1 (into legacy minutes and new ones) and days 2-3.
  await load('upgraded', 2, 600, () => legacyEnd - 180 + Math.floor(random() * (MINUTES - 1440 + 180)));

  const all = await minuteBuckets('upgraded', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const total = (bs: Bucket[]) => bs.reduce((n, b) => n + b.generations, 0);
  expect(total(all)).toBeGreaterThan(250);
  const windows: Array<[number, number]> = [
    [START, Number.MAX_SAFE_INTEGER],
    [START - 1440, START + 2 * 1440 + 17],
    [legacyEnd - 61, legacyEnd + 2000],
    [legacyEnd + 1, Number.MAX_SAFE_INTEGER],
  ];
  for (let i = 0; i < 2; i++) {
    const from = START + Math.floor(random() * MINUTES);
    windows.push([from, from + 1 + Math.floor(random() * (START + MINUTES - from))]);
  }
  for (const [from, to] of windows) {
    const rolled = await repo.bucketsInWindow('default', 'upgraded', from, to, 'background');
    expectSameResults(rolled, await minuteBuckets('upgraded', from, to));
  }
  const everything = await repo.bucketsInWindow(
    'default',
    'upgraded',
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    'background',
  );
  expect(total(everything)).toBe(total(all));
}, 240_000);
