/**
 * The consumer-lag metric is exposed on the registry (what /metrics serves), is positive while
 * a backlog is being worked off, and reaches 0 on every partition after catching up.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { consumerMetrics } from '../src/kafka/kafka-metrics';
import { createTopics, metricSamples, testKafka, testLogger } from './support/kafka-test-kit';

const PARTITIONS = 3;
const BACKLOG = 3_000;

describe('consumer lag metric (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}lag.events`;
  const groupId = `${infra.id}-lag`;
  const registry = new Registry();
  let kafka: Kafka;
  let producer: BatchingProducer;
  let consumer: BatchConsumer | undefined;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    await createTopics(kafka, [{ name: topic, partitions: PARTITIONS }]);
    producer = new BatchingProducer(kafka, { logger });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.close();
  });

  it('is exposed, shows the backlog, and reaches 0 after catching up', async () => {
    const value = 'x'.repeat(200);
    await Promise.all(
      Array.from({ length: BACKLOG }, (_, i) => producer.send(topic, [{ key: `k${i}`, value }])),
    );

    const metrics = consumerMetrics(registry);
    const lagAfterCommit: number[] = [];
    let consumed = 0;
    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: `${infra.topicPrefix}lag.dlq`,
      logger,
      metrics,
      // Small fetches, so the backlog is worked off in many batches and lag is visible on the way.
      consumerConfig: { maxBytesPerPartition: 8 * 1024, maxWaitTimeInMs: 500 },
      handler: async (messages) => {
        consumed += messages.length;
      },
      afterCommit: (info) => {
        void metrics.lag.get().then((m) => {
          const s = m.values.find((v) => v.labels.partition === String(info.partition));
          if (s) lagAfterCommit.push(s.value);
        });
      },
    });
    await consumer.start();

    await expectEventually(() => expect(consumed).toBe(BACKLOG), { timeoutMs: 30_000 });
    await expectEventually(async () => {
      const samples = (await metricSamples(registry, 'llmops_consumer_lag_messages')).filter(
        (s) => s.labels.group === groupId && s.labels.topic === topic,
      );
      expect(samples.map((s) => s.labels.partition).sort()).toEqual(['0', '1', '2']);
      for (const s of samples) expect(s.value).toBe(0);
    });
    expect(Math.max(...lagAfterCommit)).toBeGreaterThan(0);

    // What /metrics serves.
    const text = await registry.metrics();
    for (let p = 0; p < PARTITIONS; p++) {
      expect(text).toContain(
        `llmops_consumer_lag_messages{group="${groupId}",topic="${topic}",partition="${p}"} 0`,
      );
    }

    // New traffic while running: worked off again, back to 0.
    await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send(topic, [{ key: `n${i}`, value }])));
    await expectEventually(() => expect(consumed).toBe(BACKLOG + 300));
    await expectEventually(async () => {
      const samples = await metricSamples(registry, 'llmops_consumer_lag_messages');
      for (const s of samples) expect(s.value).toBe(0);
    });
  });
});
