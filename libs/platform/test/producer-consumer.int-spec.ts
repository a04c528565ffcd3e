/**
 * Acceptance: 10,000 events produced through the micro-batching producer to the real broker
 * come back through the consumer base, every id exactly once, in per-partition call order.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { consumerMetrics, producerMetrics } from '../src/kafka/kafka-metrics';
import {
  committedOffsets,
  createTopics,
  messagesInTopic,
  metricSamples,
  testKafka,
  testLogger,
} from './support/kafka-test-kit';

const EVENTS = 10_000;
const PARTITIONS = 6;
const KEYS = 97;

describe('BatchingProducer -> BatchConsumer (real Kafka)', () => {
  const infra = testInfra();
  const topic = `${infra.topicPrefix}p2c.events`;
  const dlq = `${infra.topicPrefix}p2c.dead-letter`;
  const groupId = `${infra.id}-p2c`;
  const logger = testLogger();
  let kafka: Kafka;
  let admin: Admin;
  let producer: BatchingProducer;
  let consumer: BatchConsumer | undefined;
  const registry = new Registry();

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [
      { name: topic, partitions: PARTITIONS },
      { name: dlq, partitions: 1 },
    ]);
    producer = new BatchingProducer(kafka, { logger, metrics: producerMetrics(registry) });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.close();
    await admin?.disconnect();
  });

  it('delivers every id exactly once, per partition in send-call order, in real batches', async () => {
    // Many concurrent callers, as HTTP handlers would be: bursts of sends across event-loop
    // turns, most with one message, some with three. Call order is ascending id.
    const sends: Promise<void>[] = [];
    let next = 0;
    while (next < EVENTS) {
      for (let burst = 0; burst < 250 && next < EVENTS; burst++) {
        const size = next % 11 === 0 ? Math.min(3, EVENTS - next) : 1;
        const messages = Array.from({ length: size }, (_, j) => {
          const id = next + j;
          return { key: `user-${id % KEYS}`, value: JSON.stringify({ id, pad: 'x'.repeat(64) }) };
        });
        next += size;
        sends.push(producer.send(topic, messages));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sends);
    expect(await messagesInTopic(admin, topic)).toBe(EVENTS);

    const received = new Map<number, number>(); // id -> times seen
    const byPartition = new Map<number, number[]>();
    const partitionOfKey = new Map<string, Set<number>>();
    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: dlq,
      logger,
      metrics: consumerMetrics(registry),
      handler: async (messages, ctx) => {
        const ids = byPartition.get(ctx.partition) ?? [];
        byPartition.set(ctx.partition, ids);
        for (const m of messages) {
          const { id } = JSON.parse(m.value!.toString()) as { id: number };
          ids.push(id);
          received.set(id, (received.get(id) ?? 0) + 1);
          const key = m.key!.toString();
          const parts = partitionOfKey.get(key) ?? new Set<number>();
          parts.add(m.partition);
          partitionOfKey.set(key, parts);
        }
      },
    });
    await consumer.start();

    await expectEventually(() => expect(received.size).toBe(EVENTS), { timeoutMs: 45_000 });
    // Everything is committed, so nothing can be delivered again to this group.
    await expectEventually(
      async () => {
        const committed = await committedOffsets(admin, groupId, topic);
        const high = await admin.fetchTopicOffsets(topic);
        for (const p of high) expect(committed.get(p.partition)).toBe(Number(p.high));
      },
      { timeoutMs: 15_000 },
    );

    const duplicates = [...received].filter(([, n]) => n !== 1);
    expect(duplicates).toEqual([]);
    for (let id = 0; id < EVENTS; id++) expect(received.has(id)).toBe(true);

    // Keys spread over all partitions; each key on exactly one.
    expect(byPartition.size).toBe(PARTITIONS);
    for (const [, parts] of partitionOfKey) expect(parts.size).toBe(1);
    // Per-partition order equals send-call order: calls were made in ascending id order.
    for (const [partition, ids] of byPartition) {
      const sorted = [...ids].sort((a, b) => a - b);
      expect({ partition, ids }).toEqual({ partition, ids: sorted });
    }

    // The producer batched for real: far fewer acknowledged batches than messages.
    const samples = await metricSamples(registry, 'llmops_producer_batch_size_messages');
    const count = samples.find((s) => s.metricName === 'llmops_producer_batch_size_messages_count')!.value;
    const sum = samples.find((s) => s.metricName === 'llmops_producer_batch_size_messages_sum')!.value;
    const singleMessageBatches = samples.find(
      (s) => s.metricName === 'llmops_producer_batch_size_messages_bucket' && s.labels.le === 1,
    )!.value;
    expect(sum).toBe(EVENTS);
    expect(count).toBeLessThan(EVENTS / 10);
    expect(count - singleMessageBatches).toBeGreaterThan(0);
  });
});
