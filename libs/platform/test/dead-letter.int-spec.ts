/**
 * Acceptance: a poison message lands on the dead-letter topic with its error headers, and later
 * messages on the same partition still flow. A message the handler rejects as invalid is
 * dead-lettered at once, without retries.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { Admin, Consumer, IHeaders, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { BatchConsumer, type ConsumedMessage, DLQ_HEADER } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { consumerMetrics } from '../src/kafka/kafka-metrics';
import {
  committedOffsets,
  createTopics,
  metricSamples,
  testKafka,
  testLogger,
} from './support/kafka-test-kit';

interface DeadLetter {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = (Array.isArray(v) ? v[0] : v).toString();
  }
  return out;
}

class PoisonError extends Error {
  override name = 'PoisonError';
}

describe('BatchConsumer dead-letter topic (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}dlq.source`;
  const dlq = `${infra.topicPrefix}dlq.dead-letter`;
  const groupId = `${infra.id}-dlq`;
  const MAX_ATTEMPTS = 3;
  let kafka: Kafka;
  let admin: Admin;
  let producer: BatchingProducer;
  let consumer: BatchConsumer;
  let dlqObserver: Consumer;
  const registry = new Registry();
  const processed: string[] = [];
  const seen = new Map<string, number>(); // value -> handler invocations that included it
  const deadLetters: DeadLetter[] = [];

  const send = (values: string[]): Promise<void> =>
    producer.send(
      topic,
      values.map((value) => ({
        key: 'same-key',
        value,
        headers: { 'x-test': value, 'x-correlation-id': `corr-${value}` },
        partition: 0,
      })),
    );

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [
      { name: topic, partitions: 2 },
      { name: dlq, partitions: 1 },
    ]);
    producer = new BatchingProducer(kafka, { logger });
    await producer.connect();

    dlqObserver = kafka.consumer({ groupId: `${infra.id}-dlq-observer` });
    await dlqObserver.connect();
    await dlqObserver.subscribe({ topics: [dlq], fromBeginning: true });
    await dlqObserver.run({
      eachMessage: async ({ message }) => {
        deadLetters.push({
          key: message.key?.toString() ?? null,
          value: message.value!.toString(),
          headers: headerText(message.headers),
        });
      },
    });

    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: dlq,
      maxAttempts: MAX_ATTEMPTS,
      retryBackoffMs: 20,
      logger,
      metrics: consumerMetrics(registry),
      handler: async (messages: ConsumedMessage[]) => {
        const values = messages.map((m) => m.value!.toString());
        for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
        // Like a handler whose database write fails for the whole batch because of one record.
        if (values.includes('poison')) throw new PoisonError('cannot apply poison');
        const rejected = messages
          .filter((m) => m.value!.toString().startsWith('invalid'))
          .map((message) => ({
            message,
            error: 'ContractValidationError: data.rating: expected integer 1..5',
          }));
        for (const v of values) if (!v.startsWith('invalid')) processed.push(v);
        return { rejected };
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await dlqObserver?.disconnect();
    await producer?.close();
    await admin?.disconnect();
  });

  it('dead-letters a poison message with its origin headers and keeps the partition flowing', async () => {
    const errors = jest.spyOn(logger, 'error');
    // One produce call: the five land in one batch on partition 0, at offsets 0..4.
    await send(['m0', 'm1', 'poison', 'm3', 'm4']);
    await expectEventually(() => expect(deadLetters.map((d) => d.value)).toEqual(['poison']), {
      timeoutMs: 20_000,
    });
    await expectEventually(() => expect(processed).toEqual(expect.arrayContaining(['m0', 'm1', 'm3', 'm4'])));

    const [poison] = deadLetters;
    expect(poison.key).toBe('same-key');
    expect(poison.headers[DLQ_HEADER.error]).toBe('PoisonError: cannot apply poison');
    expect(poison.headers[DLQ_HEADER.originalTopic]).toBe(topic);
    expect(poison.headers[DLQ_HEADER.originalPartition]).toBe('0');
    expect(poison.headers[DLQ_HEADER.originalOffset]).toBe('2');
    expect(poison.headers[DLQ_HEADER.attempts]).toBe(String(MAX_ATTEMPTS));
    expect(poison.headers[DLQ_HEADER.consumerGroup]).toBe(groupId);
    // The original headers travel along, so the context (correlation id) survives.
    expect(poison.headers['x-test']).toBe('poison');
    expect(poison.headers['x-correlation-id']).toBe('corr-poison');
    // The error line names the message and the correlation id of the request that produced it.
    expect(errors).toHaveBeenCalledWith(
      expect.objectContaining({ correlationId: 'corr-poison', offset: '2', topic }),
      'message sent to dead-letter topic',
    );
    // Bounded retries: the batch MAX_ATTEMPTS times, then the poison alone MAX_ATTEMPTS times.
    expect(seen.get('poison')).toBe(2 * MAX_ATTEMPTS);

    // Later messages on the same partition flow and are processed.
    await send(['m5', 'm6']);
    await expectEventually(() => expect(processed).toEqual(expect.arrayContaining(['m5', 'm6'])));
    expect(processed).not.toContain('poison');
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(7),
    );
    expect(deadLetters).toHaveLength(1);
  });

  it('dead-letters a rejected (invalid) message without retrying it', async () => {
    await send(['m7', 'invalid-1', 'm8']);
    await expectEventually(() => expect(deadLetters.map((d) => d.value)).toEqual(['poison', 'invalid-1']));
    await expectEventually(() => expect(processed).toEqual(expect.arrayContaining(['m7', 'm8'])));
    const [, invalid] = deadLetters;
    expect(invalid.headers[DLQ_HEADER.error]).toBe(
      'ContractValidationError: data.rating: expected integer 1..5',
    );
    expect(invalid.headers[DLQ_HEADER.originalTopic]).toBe(topic);
    expect(invalid.headers[DLQ_HEADER.originalPartition]).toBe('0');
    expect(invalid.headers[DLQ_HEADER.originalOffset]).toBe('8');
    expect(invalid.headers[DLQ_HEADER.attempts]).toBe('1');
    expect(seen.get('invalid-1')).toBe(1);
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(10),
    );

    const dead = await metricSamples(registry, 'llmops_dead_letter_messages_total');
    expect(dead.find((s) => s.labels.topic === topic)?.value).toBe(2);
    const outcomes = await metricSamples(registry, 'llmops_consumer_messages_total');
    expect(outcomes.find((s) => s.labels.outcome === 'dead_lettered')?.value).toBe(2);
    expect(outcomes.find((s) => s.labels.outcome === 'ok')?.value).toBe(8);
  });
});
