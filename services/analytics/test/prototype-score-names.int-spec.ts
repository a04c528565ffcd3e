/**
 * Score names that are Object.prototype members through the real database: a feedback revision
 * stored in a journal link (JSON text) and a bucket version read back (`fromStored`) keep such a
 * score like any other, an edit planned against the reloaded state subtracts it exactly, and the
 * global `Object` is never written to.
 */
import { testInfra } from '@llmops/testing';
import { type PlannedEvent, planBatch } from '../src/domain/batch-planner';
import { addValues, emptyValues, minuteOf } from '../src/domain/bucket';
import { journalOf, type PartitionState } from '../src/domain/partition-state';
import type { AggregationRepository } from '../src/persistence/aggregation.repository';
import { f, feedbackData, T } from './support/planner';
import { openTestPersistence, type TestPersistence } from './support/persistence';

let persistence: TestPersistence;
const objectKeysBefore = Object.getOwnPropertyNames(Object);

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
});

afterAll(() => persistence?.drop());

/** Plans and writes one batch the way ApplyBatchUseCase does. */
async function apply(repo: AggregationRepository, state: PartitionState, events: PlannedEvent[]) {
  const plan = planBatch(state, events);
  const head = state.journalHeads.get('f') ?? -1;
  const link = journalOf(state.part, 'f', head, events[events.length - 1].offset, plan.additions, new Date());
  await repo.write(plan, link);
  if (link) state.journalHeads.set('f', link.lastOffset);
}

const fb = (offset: number, fid: string, revision: number, scores: Record<string, number>) =>
  f(offset, feedbackData(fid, { revision, scores }));

it('stores, reloads and edits scores named constructor and toString beside ok', async () => {
  const first = persistence.aggregation();
  await apply(first, await first.loadPartition(0), [
    fb(0, 'f1', 1, { constructor: 2, ok: 1 }),
    fb(1, 'f2', 1, { toString: 1 }),
  ]);
  // A fresh replica: revisions come back from the link's JSON text, buckets from their stored versions.
  const second = persistence.aggregation();
  await apply(second, await second.loadPartition(0), [fb(2, 'f1', 2, { toString: 3, ok: 4 })]);

  const minute = minuteOf(T);
  const buckets = await persistence
    .aggregation()
    .bucketsInWindow('default', 'e', minute, minute + 1, 'request');
  const merged = emptyValues();
  for (const b of buckets) addValues(merged, b);
  expect(merged.scores).toEqual({
    constructor: { n: 0, sum: 0, sumSq: 0 },
    ok: { n: 1, sum: 4, sumSq: 16 },
    toString: { n: 2, sum: 4, sumSq: 10 },
  });
  expect(Object.getOwnPropertyNames(Object)).toEqual(objectKeysBefore);
});
