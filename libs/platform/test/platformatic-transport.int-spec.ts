/**
 * The services produce through PlatformaticTransport (@platformatic/kafka); these checks pin what
 * the switch from kafkajs must not change, on the real broker: the same key lands on the same
 * partition as with kafkajs's producer (Java's murmur2 partitioner), and key, value and headers
 * arrive byte for byte.
 */
import { testInfra } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { PlatformaticTransport } from '../src/kafka/platformatic-transport';
import { createTopics, messagesInTopic, testKafka, testLogger } from './support/kafka-test-kit';

const KEYS = 200;
const PARTITIONS = 6;

describe('PlatformaticTransport (real Kafka)', () => {
  const infra = testInfra();
  const topic = `${infra.topicPrefix}transport.events`;
  const logger = testLogger();
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, `${infra.id}-transport`, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [{ name: topic, partitions: PARTITIONS }]);
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('puts every key on the partition kafkajs chose, with the same key, value and headers', async () => {
    const platformatic = new BatchingProducer(
      new PlatformaticTransport({ brokers: [infra.kafkaBrokers], clientId: infra.id, sendTimeoutMs: 10_000 }),
      { logger },
    );
    const kafkajs = new BatchingProducer(kafka, { logger });
    await platformatic.connect();
    await kafkajs.connect();
    const keys = Array.from({ length: KEYS }, (_, i) => `request-${i}-ü✓`);
    const message = (key: string, via: string) => ({
      key,
      value: JSON.stringify({ key, via, text: 'é €\n"' }),
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', via },
    });
    await Promise.all([
      platformatic.send(
        topic,
        keys.map((k) => message(k, 'platformatic')),
      ),
      kafkajs.send(
        topic,
        keys.map((k) => message(k, 'kafkajs')),
      ),
    ]);
    await platformatic.close();
    await kafkajs.close();
    expect(await messagesInTopic(admin, topic)).toBe(2 * KEYS);

    const seen = new Map<string, { partition: number; key: string; value: string; type: string }>();
    const consumer = kafka.consumer({ groupId: `${infra.id}-transport-check` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message: m }) => {
            const via = m.headers?.via?.toString() ?? '?';
            const key = m.key?.toString() ?? '';
            seen.set(`${via}|${key}`, {
              partition,
              key,
              value: m.value?.toString() ?? '',
              type: m.headers?.['content-type']?.toString() ?? '',
            });
            if (seen.size === 2 * KEYS) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const partitionsUsed = new Set<number>();
    for (const key of keys) {
      const a = seen.get(`platformatic|${key}`);
      const b = seen.get(`kafkajs|${key}`);
      expect(a?.partition).toBe(b?.partition);
      expect(a).toMatchObject({ key, value: message(key, 'platformatic').value });
      expect(a?.type).toBe('application/cloudevents+json; charset=utf-8');
      partitionsUsed.add(a!.partition);
    }
    // The keys spread over the partitions (a constant partition would also "agree").
    expect(partitionsUsed.size).toBe(PARTITIONS);
  });
});
