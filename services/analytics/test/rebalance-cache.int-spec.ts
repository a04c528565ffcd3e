/**
 * A partition's cached state does not outlive a rebalance (real database): replica A caches
 * partition 0; after a rebalance B owns it and consumes only its generations topic; after the next
 * rebalance A owns it again and its feedback batch follows on from A's own offsets, so no gap shows.
 * A must still see B's generation, or the feedback for it is parked though its generation was
 * consumed (and, its generation gone by, never counted).
 */
import { testInfra } from '@llmops/testing';
import type { TopicRole } from '../src/aggregation/apply-batch.usecase';
import { openTestPersistence, type TestPersistence } from './support/persistence';
import { feedbackEvent, generationEvent, type Produced } from './support/scenario';
import { consumedMessage, recordingUseCase } from './support/use-case';

let persistence: TestPersistence;

beforeAll(async () => {
  persistence = await openTestPersistence(testInfra());
});

afterAll(() => persistence?.drop());

/** A replica's use case, with the feedback outcomes it reports. */
function replica() {
  const { useCase, feedback: outcomes } = recordingUseCase(persistence, 'rebalance-cache');
  const apply = (role: TopicRole, offset: number, event: Produced, groupJoins: number) =>
    useCase.execute({ role, partition: 0, messages: [consumedMessage(event, 0, offset)], groupJoins });
  return { apply, outcomes };
}

const at = new Date();
const generation = (requestId: string) => generationEvent(requestId, 'exp', 'a', at, 100, 0.001, [1, 1]);
/** Feedback naming no experiment or arm: it takes them from its generation. */
const feedback = (requestId: string) =>
  feedbackEvent({ feedbackId: `${requestId}-f`, requestId, rating: 4, revision: 1, edit: null, at });

it('a partition cached before a rebalance is loaded again: feedback finds the generation another replica consumed', async () => {
  const a = replica();
  const b = replica();
  // A owns partition 0 (its first join) and consumes a generation and its feedback.
  await a.apply('generations', 0, generation('r0'), 1);
  await a.apply('feedback', 0, feedback('r0'), 1);
  expect(a.outcomes).toEqual(['applied']);
  // A rebalance gives partition 0 to B, which consumes only the next generation.
  await b.apply('generations', 1, generation('r1'), 1);
  // Another rebalance gives it back to A (its third join): the feedback follows A's own offsets.
  await a.apply('feedback', 1, feedback('r1'), 3);
  expect(a.outcomes).toEqual(['applied', 'applied']);
});
