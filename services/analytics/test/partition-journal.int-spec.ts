/**
 * The partition journal against the real database: a batch whose journal link was stored but not
 * all of its buckets is completed exactly by its redelivery, also when it resolved parked feedback;
 * two writers extending the same link collide (the second writes no bucket); a database written by
 * builds before the journal (state in `exposures_seen`, `requests`, `feedback_revisions`) loads,
 * and nothing writes those any more; a link stores its revisions as one JSON text, and a link
 * holding them as documents loads too; a feedback parked and superseded within one batch is
 * neither stored nor deleted; batches of several partitions written at once share their inserts,
 * and a link conflict in a shared command fails only its own batch.
 */
import { testInfra } from '@llmops/testing';
import type { mongo } from 'mongoose';
import { type PlannedEvent, planBatch } from '../src/domain/batch-planner';
import { type Bucket, minuteOf, type SourceKind } from '../src/domain/bucket';
import { journalOf, type PartitionState } from '../src/domain/partition-state';
import type { AggregationRepository } from '../src/persistence/aggregation.repository';
import { WriteConflictError } from '../src/persistence/bucket-store';
import { groupRevisions } from '../src/persistence/journal-codec';
import { exposureData, f, feedbackData, generationData, T } from './support/planner';
import { openPersistence, openTestPersistence, type TestPersistence } from './support/persistence';

let persistence: TestPersistence;
let db: mongo.Db;

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
  ({ db } = persistence);
});

afterAll(() => persistence?.drop());

const at = (minute: number) => new Date(Date.parse(T) + minute * 60_000).toISOString();
const exposure = (offset: number, userId: string, minute: number): PlannedEvent => ({
  kind: 'x',
  offset,
  project: 'default',
  data: { ...exposureData(userId), assignedAt: at(minute) },
});
/** The minute bucket of experiment `e`, arm `arm`, as the state holds it. */
const minuteBucket = (state: PartitionState, minute: number, kind: SourceKind, arm = 'a') =>
  state.buckets.get(`e|${arm}|${minuteOf(at(minute))}|${kind}|${state.part}`);

/** Plans and writes one batch the way ApplyBatchUseCase does. */
async function apply(repo: AggregationRepository, state: PartitionState, events: PlannedEvent[]) {
  const plan = planBatch(state, events);
  const kind = events[0].kind;
  const link = journalOf(
    state.part,
    kind,
    state.journalHeads.get(kind) ?? -1,
    events[events.length - 1].offset,
    plan.additions,
    new Date(),
  );
  await repo.write(plan, link);
  if (link) state.journalHeads.set(kind, link.lastOffset);
  return plan;
}

/**
 * Writes `plan` with `link` as a process that dies after storing the link: the first version of
 * `failing` is taken beforehand, so the bucket write fails after the link and the other buckets.
 */
async function crashAfterLink(
  repo: AggregationRepository,
  plan: ReturnType<typeof planBatch>,
  link: ReturnType<typeof journalOf>,
  failing: Bucket,
) {
  const blocked = `${failing._id}^-1`;
  await db.collection('buckets').insertOne({ _id: blocked as never });
  await expect(repo.write(plan, link)).rejects.toThrow(WriteConflictError);
  await db.collection('buckets').deleteOne({ _id: blocked as never });
}

it('a crash between the journal link and the buckets: the redelivery adds exactly what was missing', async () => {
  const part = 0;
  const first = persistence.aggregation(0, 'versioned');
  const state = await first.loadPartition(part);
  const batch = [exposure(0, 'u1', 0), exposure(1, 'u2', 1), exposure(2, 'u1', 1), exposure(3, 'u3', 2)];
  const plan = planBatch(state, batch);
  await crashAfterLink(
    first,
    plan,
    journalOf(part, 'x', -1, 3, plan.additions, new Date()),
    minuteBucket(state, 2, 'x')!,
  );

  // A restarted process: the link is the head, minute 2 has no bucket yet.
  const second = persistence.aggregation(0, 'versioned');
  const reloaded = await second.loadPartition(part);
  expect(reloaded.journalHeads.get('x')).toBe(3);
  expect([0, 1, 2].map((m) => minuteBucket(reloaded, m, 'x')?.exposures)).toEqual([1, 1, undefined]);
  // Redelivered with one more message.
  await apply(second, reloaded, [...batch, exposure(4, 'u4', 2), exposure(5, 'u2', 2)]);

  const after = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect([0, 1, 2].map((m) => minuteBucket(after, m, 'x')?.exposures)).toEqual([1, 1, 2]);
  expect(after.seenCount).toBe(4);
  const links = await db.collection('partition_journal').find({ part }).sort({ base: 1 }).toArray();
  expect(links.map((l) => [l._id, l.base, l.lastOffset])).toEqual([
    ['x:0^-1', -1, 3],
    ['x:0^3', 3, 5],
  ]);
  // Stored as one JSON text (FerretDB converts every array element of a document it stores).
  expect(JSON.parse(links[1].seen as string)).toEqual([
    { project: 'default', exp: 'e', arm: 'a', users: ['u4'], offsets: [4] },
  ]);
});

it('a journal chain conflict: two writers extending the same link, the second fails and writes no bucket', async () => {
  const part = 1;
  const a = persistence.aggregation(0, 'versioned');
  const b = persistence.aggregation(0, 'versioned');
  const stateA = await a.loadPartition(part);
  const stateB = await b.loadPartition(part);
  await apply(a, stateA, [exposure(0, 'u1', 0), exposure(1, 'u2', 0)]);
  // B still believes the chain is empty (it missed A's batch): its link collides with A's.
  const planB = planBatch(stateB, [exposure(2, 'u3', 1)]);
  await expect(b.write(planB, journalOf(part, 'x', -1, 2, planB.additions, new Date()))).rejects.toThrow(
    WriteConflictError,
  );
  expect(await db.collection('buckets').countDocuments({ part, minute: minuteOf(at(1)) })).toBe(0);

  // After a reload B extends the chain.
  const reloaded = await b.loadPartition(part);
  expect(reloaded.journalHeads.get('x')).toBe(1);
  await apply(b, reloaded, [exposure(2, 'u3', 1)]);
  const links = await db.collection('partition_journal').find({ part }).sort({ base: 1 }).toArray();
  expect(links.map((l) => l._id)).toEqual(['x:1^-1', 'x:1^1']);
  const after = await a.loadPartition(part);
  expect([0, 1].map((m) => minuteBucket(after, m, 'x')?.exposures)).toEqual([2, 1]);
});

it('batches of several partitions written at once share their inserts, and a link conflict fails only its own batch', async () => {
  const parts = [10, 11, 12];
  const repo = persistence.aggregation(0, 'versioned');
  const states = await Promise.all(parts.map((p) => repo.loadPartition(p)));
  // Another writer extends partition 11's chain after this one loaded it: its link collides.
  const other = persistence.aggregation(0, 'versioned');
  await apply(other, await other.loadPartition(11), [exposure(0, 'u0', 0)]);

  // The three links are inserted in the same turn: the first alone, the other two in one command.
  const outcomes = await Promise.allSettled(
    parts.map((part, i) => {
      const plan = planBatch(states[i], [exposure(1, `u${part}`, 1)]);
      return repo.write(plan, journalOf(part, 'x', -1, 1, plan.additions, new Date()));
    }),
  );
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WriteConflictError);

  const reader = persistence.aggregation(0, 'versioned');
  for (const part of [10, 12]) {
    const after = await reader.loadPartition(part);
    expect([part, after.journalHeads.get('x'), minuteBucket(after, 1, 'x')?.exposures]).toEqual([part, 1, 1]);
  }
  // The conflicting batch stored nothing: the chain and the buckets are the other writer's.
  const lost = await reader.loadPartition(11);
  expect([lost.journalHeads.get('x'), lost.seenCount, minuteBucket(lost, 1, 'x')]).toEqual([0, 1, undefined]);
  expect((await db.collection('partition_journal').find({ part: 11 }).toArray()).map((l) => l._id)).toEqual([
    'x:11^-1',
  ]);
});

it('loads the state builds before the journal stored, and writes only the journal from then on', async () => {
  const part = 2;
  const minute = minuteOf(T);
  const values = (rating: number) => ({
    rating,
    thumbs: null,
    scores: {},
    comment: false,
    correction: false,
  });
  const owned = { part, project: 'default' };
  await db.collection('exposures_seen').insertOne({
    _id: 'e|a|old-user' as never,
    ...owned,
    exp: 'e',
    arm: 'a',
    minute,
    createdBy: `x:${part}:7`,
  });
  await db.collection('requests').insertOne({
    _id: 'old-req' as never,
    ...owned,
    exp: 'e',
    arm: 'b',
    minute,
    createdBy: `g:${part}:3`,
  });
  await db.collection('feedback_revisions').insertOne({
    _id: 'old-fb|1' as never,
    ...owned,
    feedbackId: 'old-fb',
    revision: 1,
    values: values(4),
    source: `f:${part}:1`,
    contributor: `f:${part}:1`,
    exp: 'e',
    arm: 'a',
    minute,
  });
  await db.collection('pending_feedback').insertOne({
    _id: `f:${part}:2` as never,
    ...owned,
    feedbackId: 'old-parked',
    revision: 1,
    requestId: 'old-req-2',
    values: values(3),
    minute,
    receivedAt: T,
    offset: 2,
  });
  const legacyCounts = async () =>
    Promise.all(
      ['exposures_seen', 'requests', 'feedback_revisions'].map((c) => db.collection(c).countDocuments()),
    );
  const before = await legacyCounts();

  const repo = persistence.aggregation(0, 'versioned');
  const state = await repo.loadPartition(part);
  expect(state.seenBy('default', 'e', 'a', 'old-user')).toBe(7);
  expect(state.requests.get('old-req')).toEqual({ exp: 'e', arm: 'b' });

  // A later exposure of the old user is a duplicate; the message that created it would re-derive it.
  const exposures = await apply(repo, state, [exposure(8, 'old-user', 0)]);
  expect(exposures.outcomes).toEqual([{ type: 'exposure', outcome: 'duplicate' }]);
  // Feedback joins the old request; an edit of the old revision moves its values (4 -> 2).
  const feedback = await apply(repo, state, [
    {
      kind: 'f',
      offset: 3,
      project: 'default',
      data: feedbackData('new-fb', { requestId: 'old-req', rating: 5 }, false),
    },
    { kind: 'f', offset: 4, project: 'default', data: feedbackData('old-fb', { revision: 2, rating: 2 }) },
  ]);
  expect(feedback.outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied']);
  // The old parked feedback is resolved by its generation, and its document deleted.
  const generations = await apply(repo, state, [
    {
      kind: 'g',
      offset: 4,
      project: 'default',
      data: generationData('old-req-2', { experiment: 'e', arm: 'b' }),
    },
  ]);
  expect(generations.outcomes.map((o) => o.outcome)).toEqual(['applied', 'resolved']);
  expect(await db.collection('pending_feedback').countDocuments({ part })).toBe(0);

  const after = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect(minuteBucket(after, 0, 'f', 'b')?.rating).toEqual({ n: 1, sum: 5, sumSq: 25 });
  expect(minuteBucket(after, 0, 'f', 'a')?.rating).toEqual({ n: 0, sum: -2, sumSq: -12 });
  expect(minuteBucket(after, 0, 'g', 'b')?.rating).toEqual({ n: 1, sum: 3, sumSq: 9 });
  expect(after.pendingIds.size).toBe(0);
  expect(await legacyCounts()).toEqual(before);
});

it('a parked document stores why it stays parked, and is deleted once applied or superseded', async () => {
  const part = 3;
  const repo = persistence.aggregation(0, 'versioned');
  const state = await repo.loadPartition(part);
  const parked = (offset: number, feedbackId: string, requestId: string): PlannedEvent =>
    f(offset, feedbackData(feedbackId, { requestId, rating: 3 }, false));
  const stored = async () =>
    (await db.collection('pending_feedback').find({ part }).sort({ _id: 1 }).toArray()).map((d) => [
      d.feedbackId,
      d.reason ?? null,
    ]);
  await apply(repo, state, [parked(0, 'p1', 'no-exp'), parked(1, 'p2', 'later'), parked(2, 'p3', 'later')]);
  // The generation of `no-exp` names no experiment: p1 stays parked, now with its reason.
  await apply(repo, state, [{ kind: 'g', offset: 0, project: 'default', data: generationData('no-exp') }]);
  expect(await stored()).toEqual([
    ['p1', 'generation_not_in_experiment'],
    ['p2', null],
    ['p3', null],
  ]);
  // An edit of p2 naming its arm supersedes the parked revision 1.
  await apply(repo, state, [
    {
      kind: 'f',
      offset: 3,
      project: 'default',
      data: feedbackData('p2', { requestId: 'later', revision: 2 }),
    },
  ]);
  expect(await stored()).toEqual([
    ['p1', 'generation_not_in_experiment'],
    ['p3', null],
  ]);
  // The generation of `later` applies p3.
  const generation = await apply(repo, state, [
    {
      kind: 'g',
      offset: 1,
      project: 'default',
      data: generationData('later', { experiment: 'e', arm: 'a' }),
    },
  ]);
  expect(generation.outcomes.map((o) => o.outcome)).toEqual(['applied', 'resolved']);
  expect(await stored()).toEqual([['p1', 'generation_not_in_experiment']]);
  const reloaded = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect([...reloaded.pendingIds]).toEqual([`f:${part}:0`]);
});

it('a crash between the link and the buckets of a generation that resolved parked feedback: the redelivery applies it once', async () => {
  const part = 5;
  const first = persistence.aggregation(0, 'versioned');
  const state = await first.loadPartition(part);
  const pendingOf = async () =>
    (await db.collection('pending_feedback').find({ part }).toArray()).map((d) => d.feedbackId);
  await apply(first, state, [
    {
      kind: 'f',
      offset: 0,
      project: 'default',
      data: feedbackData('q1', { requestId: 'req-q', rating: 4 }, false),
    },
  ]);
  expect(await pendingOf()).toEqual(['q1']);

  const generation: PlannedEvent[] = [
    {
      kind: 'g',
      offset: 0,
      project: 'default',
      data: generationData('req-q', { experiment: 'e', arm: 'a' }),
    },
  ];
  const plan = planBatch(state, generation);
  expect(plan.outcomes.map((o) => o.outcome)).toEqual(['applied', 'resolved']);
  expect(plan.additions.resolved).toEqual([`f:${part}:0`]);
  // The generation and the feedback it resolved share one bucket, whose write fails after the link
  // is stored (the parked document's delete goes in the same round trip).
  await crashAfterLink(
    first,
    plan,
    journalOf(part, 'g', -1, 0, plan.additions, new Date()),
    minuteBucket(state, 0, 'g')!,
  );

  // A restarted process: the link names the feedback resolved, so the load drops a parked document
  // the failed attempt may have left, and nothing of the batch is in a bucket yet.
  const second = persistence.aggregation(0, 'versioned');
  const reloaded = await second.loadPartition(part);
  expect(reloaded.journalHeads.get('g')).toBe(0);
  expect(reloaded.pendingIds.size).toBe(0);
  expect(await pendingOf()).toEqual([]);
  expect(minuteBucket(reloaded, 0, 'g')).toBeUndefined();

  // The redelivery re-derives the resolved feedback from the link, once; a second one adds nothing.
  const redelivered = await apply(second, reloaded, generation);
  expect(redelivered.outcomes.map((o) => o.outcome)).toEqual(['applied']);
  const after = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect(minuteBucket(after, 0, 'g')?.generations).toBe(1);
  expect(minuteBucket(after, 0, 'g')?.rating).toEqual({ n: 1, sum: 4, sumSq: 16 });
  await apply(second, after, generation);
  const last = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect(minuteBucket(last, 0, 'g')?.generations).toBe(1);
  expect(minuteBucket(last, 0, 'g')?.rating).toEqual({ n: 1, sum: 4, sumSq: 16 });
  expect(last.pendingIds.size).toBe(0);
});

it("stores a link's additions as JSON text, and loads a link that holds them as arrays", async () => {
  const part = 4;
  const repo = persistence.aggregation(0, 'versioned');
  const state = await repo.loadPartition(part);
  const feedback = (offset: number, feedbackId: string, rating: number): PlannedEvent =>
    f(offset, feedbackData(feedbackId, { rating }));
  const plan = await apply(repo, state, [feedback(0, 'j1', 4)]);
  const [link] = await db.collection('partition_journal').find({ part }).toArray();
  expect([typeof link.seen, typeof link.requests, typeof link.revisions]).toEqual([
    'string',
    'string',
    'string',
  ]);
  // The revisions grouped by experiment, arm and minute (journal-codec.ts).
  expect(JSON.parse(link.revisions as string)).toEqual(groupRevisions(plan.additions.revisions));
  // Its bucket versions store their summaries as JSON text too.
  const bucket = await db.collection('buckets').findOne({ part, res: 'm' });
  expect(typeof bucket?.values).toBe('string');
  expect(JSON.parse(bucket?.values as string)).toMatchObject({ rating: { n: 1, sum: 4, sumSq: 16 } });

  // Links as earlier builds wrote them load the same way.
  const [j1] = plan.additions.revisions;
  const earlierLink = (base: number, additions: Record<string, unknown>) =>
    db.collection('partition_journal').insertOne({
      _id: `f:${part}^${base}` as never,
      part,
      kind: 'f',
      base,
      lastOffset: base + 1,
      at: T,
      resolved: [],
      ...additions,
    });
  // One holding its additions as arrays.
  await earlierLink(0, {
    seen: [{ project: 'default', exp: 'e', arm: 'a', users: ['j-user'], offsets: [1] }],
    requests: [{ project: 'default', exp: 'e', arm: 'b', ids: ['j-req'] }],
    revisions: [{ ...j1, feedbackId: 'j2', source: `f:${part}:1`, contributor: `f:${part}:1` }],
  });
  // One holding its revisions as the JSON text of the revision objects, ungrouped.
  await earlierLink(1, {
    seen: '[]',
    requests: '[]',
    revisions: JSON.stringify([
      { ...j1, feedbackId: 'j3', source: `f:${part}:2`, contributor: `f:${part}:2` },
    ]),
  });
  const reloaded = await persistence.aggregation(0, 'versioned').loadPartition(part);
  expect(reloaded.journalHeads.get('f')).toBe(2);
  expect(reloaded.seenBy('default', 'e', 'a', 'j-user')).toBe(1);
  expect(reloaded.requests.get('j-req')).toEqual({ exp: 'e', arm: 'b' });
  expect(['j1', 'j2', 'j3'].map((id) => reloaded.revisions.get(id)?.map((r) => r.values.rating))).toEqual([
    [4],
    [4],
    [4],
  ]);
  // Another copy of any of the revisions is a duplicate.
  const copies = planBatch(reloaded, [feedback(3, 'j1', 4), feedback(4, 'j2', 4), feedback(5, 'j3', 4)]);
  expect(copies.outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
});

it('stores the feedback a batch parks before its buckets: no bucket of the batch lands when they fail', async () => {
  const part = 6;
  const repo = persistence.aggregation(0, 'versioned');
  const state = await repo.loadPartition(part);
  const feedback = (offset: number, feedbackId: string, named: boolean): PlannedEvent =>
    f(offset, feedbackData(feedbackId, { rating: 3 }, named));
  const events = [feedback(0, 'parks', false), feedback(1, 'counts', true)];
  const plan = planBatch(state, events);
  expect(plan.pending.map((p) => p._id)).toEqual([`f:${part}:0`]);
  expect(plan.buckets.length).toBeGreaterThan(0);
  // Its parked document cannot be stored (another writer's, under the same id).
  await db.collection('pending_feedback').insertOne({ _id: `f:${part}:0` as never, part });
  const link = journalOf(part, 'f', -1, 1, plan.additions, new Date());
  await expect(repo.write(plan, link)).rejects.toThrow(WriteConflictError);
  // A redelivery finds the link and no bucket moved past the parked message.
  expect(await db.collection('partition_journal').countDocuments({ part })).toBe(1);
  expect(await db.collection('buckets').countDocuments({ part })).toBe(0);
});

it('a feedback parked and superseded within one batch is neither stored nor deleted', async () => {
  const infra = testInfra();
  const own = await openPersistence(infra.mongoBaseUri, `${infra.dbName}_parked_once`, {
    monitorCommands: true,
  });
  const deletes: unknown[] = [];
  own.connection.getClient().on('commandStarted', (e: mongo.CommandStartedEvent) => {
    if (e.commandName === 'delete') deletes.push(e.command);
  });
  try {
    const repo = own.aggregation();
    const state = await repo.loadPartition(5);
    // Revision 1 names no arm and its request is unknown: parked. Revision 2 names its arm: applied,
    // and it supersedes the parked revision 1 in the same batch.
    const plan = await apply(repo, state, [
      f(0, feedbackData('fb-once', { rating: 2 }, false)),
      f(1, feedbackData('fb-once', { rating: 4, revision: 2 })),
    ]);
    expect(plan.pending.map((p) => p._id)).toEqual(['f:5:0']);
    expect(plan.additions.resolved).toEqual(['f:5:0']);
    expect(
      await own.connection
        .getClient()
        .db(own.connection.name)
        .collection('pending_feedback')
        .countDocuments(),
    ).toBe(0);
    expect(deletes).toEqual([]);
  } finally {
    await own.connection.dropDatabase();
    await own.connection.close();
  }
});
