/**
 * Phase roll-ups against the real MongoDB-wire server: batches planned with the experiments' phase
 * starts and written through the repository, as the consumer does, over three partitions and the
 * three topics. Where every (topic, partition) holding data of the experiment has established the
 * phase, `phaseRollups` returns one roll-up per arm, topic and partition, and the results computed
 * from them equal those of the window's days, hours and minutes; otherwise it returns null (the
 * results read the window). Holds across a phase change, a batch cut short between its link and its
 * buckets, and a reload.
 */
import { mulberry32 } from '@llmops/stats';
import { testInfra } from '@llmops/testing';
import { Registry } from 'prom-client';
import { type PlannedEvent, planBatch, type TouchedBucket } from '../src/domain/batch-planner';
import { type Bucket, emptyBucket, minuteOf, type SourceKind } from '../src/domain/bucket';
import { journalOf, type PartitionState } from '../src/domain/partition-state';
import { PHASE_RES, phaseStartMinute } from '../src/domain/phase-rollup';
import { experimentScope } from '../src/domain/project-scope';
import type { AggregationRepository } from '../src/persistence/aggregation.repository';
import type { ExperimentDoc } from '../src/persistence/analytics.schemas';
import { WriteConflictError } from '../src/persistence/bucket-store';
import { VersionedBucketStore } from '../src/persistence/versioned-bucket.store';
import { computeResults } from '../src/results/compute-results';
import { GetResultsUseCase, WHOLE_PHASE_READS } from '../src/results/get-results.usecase';
import { experimentDoc, exposureData, feedbackData, generationData } from './support/planner';
import { openTestPersistence, type TestPersistence } from './support/persistence';

const START = minuteOf('2025-03-01T22:37:00.000Z');
const MINUTES = 3 * 1440;
const PARTS = 3;
const KINDS: SourceKind[] = ['x', 'g', 'f'];
const CONFIG = { ANALYTICS_MIN_PER_ARM: 1, ANALYTICS_RECOMMENDED_PER_ARM: 2 };

let persistence: TestPersistence;
let repo: AggregationRepository;
const states = new Map<number, PartitionState>();
/** Per topic and partition: the next offset. */
const offsets = new Map<string, number>();
let phaseStartedAt: string | null = null;
/** The phase starts the consumer knows, by experiment scope (experiment `e`: `phaseStartedAt`). */
const otherStarts = new Map<string, string | null>();

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
  // The versioned store on any server: the cut-short batch is made by taking a version id.
  repo = persistence.aggregation(undefined, 'versioned');
  await persistence.db
    .collection('experiments')
    .insertOne(experimentDoc({ arms: arms(), control: 'a' }) as never);
});

afterAll(() => persistence?.drop());

function arms() {
  return [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 1 },
  ];
}

const phases = () => (project: string, exp: string) => {
  const scope = experimentScope(project, exp);
  return phaseStartMinute(scope === 'e' ? phaseStartedAt : otherStarts.get(scope));
};

async function stateOf(part: number): Promise<PartitionState> {
  let state = states.get(part);
  if (!state) states.set(part, (state = await repo.loadPartition(part)));
  return state;
}

/** `n` events of topic `kind` on partition `part`, at random minutes of the three days. */
function eventsOf(
  kind: SourceKind,
  part: number,
  n: number,
  random: () => number,
  project = 'default',
  exp = 'e',
): PlannedEvent[] {
  const key = `${kind}${part}`;
  const first = offsets.get(key) ?? 0;
  offsets.set(key, first + n);
  const out: PlannedEvent[] = [];
  for (let offset = first; offset < first + n; offset++) {
    const at = new Date((START + Math.floor(random() * MINUTES)) * 60_000 + 1_000).toISOString();
    const arm = random() < 0.5 ? 'a' : 'b';
    const id = `${project}-${key}-${offset}`;
    out.push(
      kind === 'x'
        ? { kind, offset, project, data: { ...exposureData(`u${id}`, arm), experiment: exp, assignedAt: at } }
        : kind === 'g'
          ? {
              kind,
              offset,
              project,
              data: generationData(`r${id}`, {
                experiment: exp,
                arm,
                timestamp: at,
                latencyMs: 1 + Math.floor(random() * 2000),
              }),
            }
          : {
              kind,
              offset,
              project,
              data: feedbackData(`f${id}`, {
                requestId: `r${id}`,
                experiment: exp,
                arm,
                timestamp: at,
                rating: 1 + (offset % 5),
              }),
            },
    );
  }
  return out;
}

/** Plans and writes one batch as ApplyBatchUseCase does. */
async function consume(part: number, events: PlannedEvent[]): Promise<void> {
  const state = await stateOf(part);
  const kind = events[0].kind;
  const last = events[events.length - 1].offset;
  const plan = planBatch(state, events, phases());
  const link = journalOf(part, kind, state.journalHeads.get(kind) ?? -1, last, plan.additions, new Date());
  await repo.write(plan, link);
  if (link) state.journalHeads.set(kind, link.lastOffset);
  state.expected.set(kind, last + 1);
}

/** A round of batches: every topic of every partition, `n` events each. */
async function round(seed: number, n: number): Promise<void> {
  const random = mulberry32(seed);
  for (let part = 0; part < PARTS; part++)
    for (const kind of KINDS) await consume(part, eventsOf(kind, part, n, random));
}

async function experiment(project = 'default', key = 'e'): Promise<ExperimentDoc> {
  const doc = await persistence.experiments.findByKey(project, key, 'background');
  if (!doc) throw new Error(`experiment ${key} not found`);
  return doc;
}

/** The results of window=all from the roll-ups and from the window's buckets, side by side. */
async function bothReads(project = 'default', key = 'e') {
  const exp = await experiment(project, key);
  const start = phaseStartMinute(exp.phaseStartedAt);
  const rollups = await repo.phaseRollups(project, key, start, 'background');
  const window = { from: new Date(start * 60_000), to: new Date() };
  const fromWindow = await repo.bucketsInWindow(project, key, start, Number.MAX_SAFE_INTEGER, 'background');
  const results = (buckets: typeof fromWindow) =>
    computeResults(exp, buckets, window, { minimumPerArm: 1, recommendedPerArm: 2 }, null);
  return { rollups, fromRollups: rollups && (await results(rollups)), fromWindow: await results(fromWindow) };
}

/** The figures of an arm that must agree: counts exactly, means to the last digits. */
function figures(r: Awaited<ReturnType<typeof computeResults>>) {
  return r.arms.map((a) => ({
    arm: a.arm,
    exposures: a.exposures,
    generations: a.generations,
    rating: [a.rating.n, a.rating.mean === null ? null : Number(a.rating.mean.toPrecision(12))],
    thumbs: a.thumbs,
    latencyP50: a.latencyMs.p50,
  }));
}

/** The results use case, counting its reads in a registry of its own. */
function countingResults(): { results: GetResultsUseCase; registry: Registry } {
  const registry = new Registry();
  const results = new GetResultsUseCase(
    repo,
    persistence.experiments,
    persistence.decisions,
    CONFIG,
    registry,
  );
  return { results, registry };
}

/** The whole-phase reads the results use case counted, by source, on the background path. */
async function wholePhaseReads(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(WHOLE_PHASE_READS)!.get();
  return Object.fromEntries(
    metric.values
      .filter((v) => v.labels.path === 'background')
      .map((v) => [String(v.labels.source), v.value]),
  );
}

it('the roll-ups of a phase give the results of its window, once every topic and partition has established them', async () => {
  await round(1, 40);
  const { rollups, fromRollups, fromWindow } = await bothReads();
  expect(rollups).not.toBeNull();
  // One roll-up per arm, topic and partition.
  expect(rollups!.length).toBe(2 * KINDS.length * PARTS);
  expect(rollups!.every((b) => b.res === PHASE_RES && b.minute === 0)).toBe(true);
  expect(figures(fromRollups!)).toEqual(figures(fromWindow));
  expect(fromWindow.arms.every((a) => a.exposures > 0 && a.generations > 0 && a.rating.n > 0)).toBe(true);
  // The results use case reads them, not the window (same figures), and counts the read.
  const { results, registry } = countingResults();
  const windowRead = jest.spyOn(repo, 'bucketsInWindow');
  try {
    expect(figures(await results.forExperiment(await experiment(), { window: 'all' }, 'background'))).toEqual(
      figures(fromWindow),
    );
    expect(windowRead).not.toHaveBeenCalled();
    // A window with an end reads the window, and is not a read of the whole phase.
    await results.forExperiment(
      await experiment(),
      { window: 'all', to: new Date().toISOString() },
      'background',
    );
    expect(windowRead).toHaveBeenCalledTimes(1);
    expect(await wholePhaseReads(registry)).toEqual({ 'phase-rollups': 1, window: 0 });
  } finally {
    windowRead.mockRestore();
  }
});

it('a new phase: read from the window until every topic and partition has established it, then from its roll-ups', async () => {
  phaseStartedAt = new Date((START + 1440 + 17) * 60_000 + 30_000).toISOString();
  await persistence.db
    .collection('experiments')
    .updateOne({ _id: 'e' as never }, { $set: { phase: 2, phaseStartedAt } });
  // Only partition 0 consumes: the other partitions still hold the old phase.
  const random = mulberry32(2);
  for (const kind of KINDS) await consume(0, eventsOf(kind, 0, 30, random));
  expect((await bothReads()).rollups).toBeNull();
  // Meanwhile the results read the window, and the metric says so.
  const { results, registry } = countingResults();
  await results.forExperiment(await experiment(), { window: 'all' }, 'background');
  expect(await wholePhaseReads(registry)).toEqual({ 'phase-rollups': 0, window: 1 });
  await round(3, 30);
  const { rollups, fromRollups, fromWindow } = await bothReads();
  expect(rollups).not.toBeNull();
  expect(rollups!.every((b) => b.minute === phaseStartMinute(phaseStartedAt))).toBe(true);
  expect(figures(fromRollups!)).toEqual(figures(fromWindow));
});

it('a batch cut short between its link and its buckets, then a reload and a redelivery: the roll-ups still give the window', async () => {
  const part = 1;
  const state = await stateOf(part);
  const events = eventsOf('g', part, 50, mulberry32(4));
  const last = events[events.length - 1].offset;
  const plan = planBatch(state, events, phases());
  const rollup = plan.buckets.find((t) => t.bucket.res === PHASE_RES);
  expect(rollup).toBeDefined();
  // The first version of a minute bucket is taken: its write fails after the link and the other buckets.
  const minute = plan.buckets.find((t) => t.bucket.res === 'm' && t.previousLastOffset === -1)!;
  const blocked = `${minute.bucket._id}^-1`;
  await persistence.db.collection('buckets').insertOne({ _id: blocked as never });
  await expect(
    repo.write(
      plan,
      journalOf(part, 'g', state.journalHeads.get('g') ?? -1, last, plan.additions, new Date()),
    ),
  ).rejects.toThrow(WriteConflictError);
  await persistence.db.collection('buckets').deleteOne({ _id: blocked as never });
  // A restarted process: its redelivery is shorter than the batch, then the rest follows.
  states.delete(part);
  await consume(part, events.slice(0, 20));
  await consume(part, events.slice(20));
  await round(5, 10);
  const { rollups, fromRollups, fromWindow } = await bothReads();
  expect(rollups).not.toBeNull();
  expect(figures(fromRollups!)).toEqual(figures(fromWindow));
  // A fresh load reads the roll-ups and ledgers back: the next round keeps them equal.
  states.clear();
  await round(6, 10);
  const again = await bothReads();
  expect(again.rollups).not.toBeNull();
  expect(figures(again.fromRollups!)).toEqual(figures(again.fromWindow));
});

it('an upgraded database of another project: roll-ups established over minute buckets stored before roll-ups give the window', async () => {
  const [project, key, part] = ['acme', 'legacy-e', 2];
  const scope = experimentScope(project, key);
  // The phase starts inside the first day, which a build without roll-ups wrote: minute buckets
  // without `res`, no hours or days, and the arms directory.
  const started = new Date((START + 300) * 60_000 + 10_000).toISOString();
  otherStarts.set(scope, started);
  await persistence.db.collection('experiments').insertOne(
    experimentDoc({
      _id: scope,
      project,
      key,
      arms: arms(),
      control: 'a',
      phase: 2,
      phaseStartedAt: started,
    }) as never,
  );
  const random = mulberry32(7);
  const legacy: TouchedBucket[] = [];
  for (let i = 0; i < 120; i++) {
    const kind = KINDS[i % 3];
    const arm = random() < 0.5 ? 'a' : 'b';
    const { res: _res, ...bucket } = emptyBucket(
      project,
      key,
      arm,
      START + Math.floor(random() * 1440),
      kind,
      part,
    );
    if (legacy.some((t) => t.bucket._id === bucket._id)) continue;
    const values =
      kind === 'x'
        ? { exposures: 3 }
        : kind === 'g'
          ? { generations: 2, promptTokens: 6 }
          : { rating: { n: 1, sum: 4, sumSq: 16 }, thumbsUp: 1 };
    legacy.push({ bucket: { ...bucket, ...values, lastOffset: 0 } as Bucket, previousLastOffset: -1 });
  }
  await new VersionedBucketStore(persistence.buckets, 2_000).write(legacy);
  await persistence.db
    .collection('arms_seen')
    .insertMany(
      ['a', 'b'].map((arm) => ({ _id: `${scope}|${arm}|${part}`, part, project, exp: key, arm })) as never[],
    );
  // The upgraded consumer loads the partition again and consumes every topic of it.
  states.delete(part);
  for (const kind of KINDS) await consume(part, eventsOf(kind, part, 60, random, project, key));
  const { rollups, fromRollups, fromWindow } = await bothReads(project, key);
  expect(rollups).not.toBeNull();
  expect(rollups!.every((b) => b.project === project && b.minute === START + 300)).toBe(true);
  expect(figures(fromRollups!)).toEqual(figures(fromWindow));
  // The window holds legacy minutes besides the new events.
  const legacyExposures =
    legacy.filter((t) => t.bucket.kind === 'x' && t.bucket.minute >= START + 300).length * 3;
  expect(legacyExposures).toBeGreaterThan(0);
  expect(fromWindow.arms.reduce((n, a) => n + a.exposures, 0)).toBeGreaterThan(legacyExposures);
  // The default project's experiment `e` is untouched by it.
  const e = await bothReads();
  expect(figures(e.fromRollups!)).toEqual(figures(e.fromWindow));
});
