/**
 * Generations and feedback through the SDK's buffer into a real feedback service process and
 * Kafka: batches, per-item refusals, client-side argument checks, and an outage: the feedback
 * service stops while the SDK buffers, starts again, and every item is on Kafka exactly once.
 */
import { TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, readTopicToEnd, type TopicRecord } from '@llmops/testing';
import { LlmopsClient, LlmopsValidationError } from '../src';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let client: LlmopsClient;

beforeAll(async () => {
  stack = await startStack(['feedback']);
  client = new LlmopsClient({
    apiKey: stack.key.key,
    urls: { feedback: stack.urls.feedback },
    buffer: { maxBatch: 200, maxItems: 50_000, flushIntervalMs: 50 },
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
    timeoutMs: 5_000,
  });
});

afterAll(async () => {
  await client?.shutdown().catch(() => undefined);
  await stack?.close();
});

/** How many records carry each id (`data.requestId` or `data.feedbackId`). */
function countBy(records: TopicRecord[], field: 'requestId' | 'feedbackId'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const id = (JSON.parse(r.value) as { data: Record<string, string> }).data[field];
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

async function logPairs(n: number, tag: string): Promise<{ requestIds: string[]; feedbackIds: string[] }> {
  const requestIds: string[] = [];
  const feedbackIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const requestId = await client.generations.log({
      model: 'gpt-4o-mini',
      input: `question ${tag} ${i}`,
      output: `answer ${i}`,
      latencyMs: 100 + i,
      userId: `user-${i}`,
    });
    requestIds.push(requestId);
    feedbackIds.push(
      await client.feedback.log({ requestId, rating: 1 + (i % 5), thumbs: i % 2 ? 'up' : 'down' }),
    );
  }
  return { requestIds, feedbackIds };
}

it('refuses bad items before buffering them', async () => {
  await expect(client.generations.log({ model: '', output: 'x', latencyMs: 1 })).rejects.toMatchObject({
    code: 'validation_failed',
    details: { field: 'model' },
  });
  await expect(client.generations.log({ model: 'm', output: 'x', latencyMs: -1 })).rejects.toBeInstanceOf(
    LlmopsValidationError,
  );
  await expect(client.feedback.log({ requestId: 'r' })).rejects.toMatchObject({
    details: { field: 'feedback' },
  });
  await expect(client.feedback.log({ requestId: 'r', rating: 2.5 })).rejects.toMatchObject({
    details: { field: 'rating' },
  });
  await expect(client.feedback.log({ requestId: 'r', thumbs: 'sideways' as 'up' })).rejects.toMatchObject({
    details: { field: 'thumbs' },
  });
  expect(client.metrics().buffered).toEqual({ generations: 0, feedback: 0, exposures: 0 });
});

it('lists the items the platform refused in the flush result', async () => {
  const requestId = await client.generations.log({
    model: 'm',
    output: 'o',
    latencyMs: 1,
    experiment: 'no-such-experiment',
  });
  const result = await client.flush();
  expect(result.rejected).toEqual([
    expect.objectContaining({ kind: 'generation', id: requestId, code: 'experiment_not_found' }),
  ]);
});

it('delivers every item buffered across a feedback outage to Kafka exactly once', async () => {
  const before = await logPairs(300, 'before');
  await client.flush();
  const sentBefore = client.metrics().sent;

  await stack.stop('feedback');
  const during = await logPairs(700, 'during');
  // The buffer tries, fails and keeps the items.
  await expectEventually(() => expect(client.metrics().retried).toBeGreaterThan(0), { timeoutMs: 10_000 });
  expect(client.metrics().buffered.generations + client.metrics().buffered.feedback).toBe(1_400);
  await expect(client.flush()).rejects.toMatchObject({ code: 'unreachable' });

  await stack.start('feedback');
  await client.flush();
  const metrics = client.metrics();
  expect(metrics).toMatchObject({ dropped: 0, sent: sentBefore + 1_400 });
  expect(metrics.buffered).toEqual({ generations: 0, feedback: 0, exposures: 0 });

  const requestIds = [...before.requestIds, ...during.requestIds];
  const feedbackIds = [...before.feedbackIds, ...during.feedbackIds];
  const brokers = stack.infra.kafkaBrokers;
  const generations = countBy(
    await readTopicToEnd(brokers, topicName(TOPICS.generations, stack.infra.topicPrefix)),
    'requestId',
  );
  const feedback = countBy(
    await readTopicToEnd(brokers, topicName(TOPICS.feedback, stack.infra.topicPrefix)),
    'feedbackId',
  );
  expect(requestIds.filter((id) => generations.get(id) !== 1)).toEqual([]);
  expect(feedbackIds.filter((id) => feedback.get(id) !== 1)).toEqual([]);
  expect(feedback.size).toBe(1_000);
});
