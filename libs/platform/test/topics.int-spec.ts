/**
 * Services booting together on a fresh cluster create the same topics at once: every caller
 * must succeed, and the topics must be usable (leaders elected) when ensureTopics returns.
 */
import { Kafka, logLevel } from 'kafkajs';
import { testInfra } from '@llmops/testing';
import { ensureTopics } from '../src/kafka/topics';

describe('ensureTopics under concurrent creation', () => {
  const infra = testInfra();

  it('lets four concurrent callers create the same topics and returns only when every partition has a leader', async () => {
    const specs = ['a', 'b', 'c'].map((n) => ({ name: `${infra.topicPrefix}race-${n}`, partitions: 6 }));
    const clients = Array.from(
      { length: 4 },
      (_, i) =>
        new Kafka({
          clientId: `${infra.id}-${i}`,
          brokers: [infra.kafkaBrokers],
          logLevel: logLevel.NOTHING,
        }),
    );
    await expect(Promise.all(clients.map((k) => ensureTopics(k, specs)))).resolves.toHaveLength(4);

    const admin = clients[0].admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
      for (const t of topics) {
        expect(t.partitions).toHaveLength(6);
        expect(t.partitions.every((p) => p.leader >= 0)).toBe(true);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
