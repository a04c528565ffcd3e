/**
 * Graceful shutdown: stop() lets the batch in progress finish and commits it before leaving the
 * group (kafkajs' disconnect() alone would drop that work and re-deliver it to the next member).
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { committedOffsets, createTopics, testKafka, testLogger } from './support/kafka-test-kit';

describe('BatchConsumer.stop() during a batch (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}shutdown.events`;
  const groupId = `${infra.id}-shutdown`;
  let kafka: Kafka;
  let admin: Admin;
  let consumer: BatchConsumer | undefined;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [{ name: topic, partitions: 1 }]);
    const producer = new BatchingProducer(kafka, { logger });
    await producer.connect();
    await producer.send(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: `e${i}` })),
    );
    await producer.close();
  });

  afterAll(async () => {
    await consumer?.stop();
    await admin?.disconnect();
  });

  it('finishes and commits the batch in progress, then leaves the group', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batches: { first: string; last: string }[] = [];
    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: `${infra.topicPrefix}shutdown.dlq`,
      logger,
      consumerConfig: { maxWaitTimeInMs: 500 },
      handler: async (_messages, ctx) => {
        batches.push({ first: ctx.firstOffset, last: ctx.lastOffset });
        await gate;
      },
    });
    await consumer.start();
    await expectEventually(() => expect(batches).toHaveLength(1));

    const stopping = consumer.stop();
    release();
    await stopping;
    consumer = undefined;

    expect(batches).toHaveLength(1);
    expect(batches[0].first).toBe('0');
    const committed = (await committedOffsets(admin, groupId, topic)).get(0);
    expect(committed).toBe(Number(batches[0].last) + 1);
  });
});
