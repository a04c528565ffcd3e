/**
 * Request retention (real database): a partition holds a generation's request for at least
 * ANALYTICS_REQUEST_RETENTION_HOURS after it consumed it and forgets it by the first batch two
 * horizons after, both in memory and when it loads its journal again; feedback for a forgotten
 * request parks as unattributed, feedback for a held one is applied. The clock (Date only: the driver's timers run for real) is
 * moved by hours between batches.
 */
import { testInfra } from '@llmops/testing';
import { openTestPersistence, type TestPersistence } from './support/persistence';
import { feedbackEvent, generationEvent, type Produced } from './support/scenario';
import { consumedMessage, recordingUseCase } from './support/use-case';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');

let persistence: TestPersistence;

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
});

afterAll(() => persistence?.drop());

beforeEach(() => {
  jest.useFakeTimers({
    now: T0,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});

afterEach(() => jest.useRealTimers());

/**
 * A replica's use case with a retention of `retentionHours` (1 unless given), with its feedback
 * outcomes and request figures.
 */
function replica(retentionHours = 1) {
  const {
    useCase,
    feedback: outcomes,
    requests,
  } = recordingUseCase(persistence, 'request-retention', {
    ANALYTICS_REQUEST_RETENTION_HOURS: String(retentionHours),
  });
  let offsets = { generations: 0, feedback: 0 };
  /** Applies `event` as the next record of its topic on partition `partition`, in the group's join `joins`. */
  const apply = (role: 'generations' | 'feedback', event: Produced, partition = 0, joins = 1) =>
    useCase.execute({
      role,
      partition,
      messages: [consumedMessage(event, partition, offsets[role]++)],
      groupJoins: joins,
    });
  return {
    outcomes,
    requests,
    apply,
    /** Continues after `other`'s offsets, as a replica taking the partition over. */
    follow(other: { offsets: () => typeof offsets }) {
      offsets = { ...other.offsets() };
    },
    offsets: () => offsets,
  };
}

const generation = (requestId: string) =>
  generationEvent(requestId, 'exp', 'a', new Date(), 100, 0.001, [1, 1]);
/** Feedback naming no experiment or arm: it takes them from its generation. */
const feedback = (requestId: string, feedbackId = `${requestId}-f`) =>
  feedbackEvent({
    feedbackId,
    requestId,
    rating: 4,
    revision: 1,
    edit: null,
    at: new Date(),
  });

it('joins feedback to a request held within the horizon, parks it once the request is forgotten, and a reload loads only recent requests', async () => {
  const a = replica();
  await a.apply('generations', generation('r-old')); // recorded at 0 h
  jest.setSystemTime(T0 + 0.5 * HOUR);
  await a.apply('generations', generation('r-mid')); // recorded at 0.5 h
  await a.apply('feedback', feedback('r-old'));
  expect(a.outcomes).toEqual(['applied']);

  jest.setSystemTime(T0 + 1.5 * HOUR);
  // The first epoch has ended: it becomes the previous one, still held.
  await a.apply('generations', generation('r-new'));
  expect(a.requests).toEqual({ held: 3, forgotten: 0 });
  jest.setSystemTime(T0 + 2.5 * HOUR);
  await a.apply('feedback', feedback('r-mid')); // 2 h after its generation: the rotation forgot it
  expect(a.requests).toEqual({ held: 1, forgotten: 2 });
  await a.apply('feedback', feedback('r-new')); // 1 h after its generation: held
  expect(a.outcomes).toEqual(['applied', 'parked', 'applied']);

  // Another replica loads the partition's journal: only links written within the horizon add requests.
  const b = replica();
  b.follow(a);
  jest.setSystemTime(T0 + 2.6 * HOUR);
  await b.apply('generations', generation('r-b'));
  expect(b.requests).toEqual({ held: 1, forgotten: 0 });
  await b.apply('feedback', feedback('r-b'));
  expect(b.outcomes).toEqual(['applied']);
  const c = replica();
  c.follow(b);
  jest.setSystemTime(T0 + 3.4 * HOUR);
  // Loaded at 3.4 h: r-new (1.5 h) is past the horizon, r-b (2.6 h) within it.
  await c.apply('feedback', feedback('r-new', 'r-new-f2'));
  await c.apply('feedback', feedback('r-b', 'r-b-f2'));
  expect(c.outcomes).toEqual(['parked', 'applied']);
  expect(c.requests).toEqual({ held: 1, forgotten: 0 });
  // What it loaded is in the epoch that began at its cutoff (2.4 h): gone by its batch at 4.4 h.
  jest.setSystemTime(T0 + 4.4 * HOUR);
  await c.apply('feedback', feedback('r-b', 'r-b-f3'));
  expect(c.outcomes).toEqual(['parked', 'applied', 'parked']);
  expect(c.requests).toEqual({ held: 0, forgotten: 1 });
});

it('loads the request documents of builds before the journal only when their minute is within the horizon', async () => {
  const minute = (at: number) => Math.floor(at / 60_000);
  await persistence.db.collection('requests').insertMany([
    {
      _id: 'legacy-old',
      part: 4,
      project: 'default',
      exp: 'exp',
      arm: 'a',
      minute: minute(T0 - 1.5 * HOUR),
      createdBy: 'g:4:0',
    },
    {
      _id: 'legacy-new',
      part: 4,
      project: 'default',
      exp: 'exp',
      arm: 'a',
      minute: minute(T0 - 0.5 * HOUR),
      createdBy: 'g:4:1',
    },
  ] as never[]);
  const a = replica();
  await a.apply('feedback', feedback('legacy-old'), 4);
  await a.apply('feedback', feedback('legacy-new'), 4);
  expect(a.outcomes).toEqual(['parked', 'applied']);
});

it('with a retention of 0 keeps every request, in memory and on load', async () => {
  const a = replica(0);
  await a.apply('generations', generation('k-old'), 1);
  jest.setSystemTime(T0 + 1_000 * HOUR);
  await a.apply('generations', generation('k-new'), 1);
  await a.apply('feedback', feedback('k-old'), 1);
  expect(a.outcomes).toEqual(['applied']);
  expect(a.requests).toEqual({ held: 2, forgotten: 0 });
  const b = replica(0);
  b.follow(a);
  await b.apply('feedback', feedback('k-old', 'k-old-f2'), 1);
  expect(b.outcomes).toEqual(['applied']);
  expect(b.requests).toEqual({ held: 2, forgotten: 0 });
});

it('forgets the partitions cached in an earlier join of the group once it loads one in a new join', async () => {
  const a = replica();
  await a.apply('generations', generation('j-2'), 2, 1);
  await a.apply('generations', generation('j-3'), 3, 1);
  expect(a.requests.held).toBe(2);
  // A rebalance: partition 3 stays with this replica, partition 2 went to another one.
  await a.apply('generations', generation('j-3b'), 3, 2);
  expect(a.requests.held).toBe(2); // partition 3's two requests, loaded again; partition 2's gone
});
