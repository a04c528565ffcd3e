/**
 * The consumer engine against a real broker, with a handler that applies records all-or-nothing
 * per call (like one database write per batch):
 * - a transient failure (the database unreachable, for longer than the session timeout) is retried
 *   with heartbeats: nothing is dead-lettered, nothing is applied twice, the member never leaves
 *   its group;
 * - deterministic poison, scattered and in a burst of 1,000, is isolated: every poison record is
 *   on the dead-letter topic with its cause, every good record is applied exactly once, and good
 *   records produced after the burst are applied within seconds.
 */
import { expectEventually, startTopicReader, testInfra, type TopicReader } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { mongo } from 'mongoose';
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

const MAX_ATTEMPTS = 2;

describe('BatchConsumer isolates poison and rides out outages (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}iso.source`;
  const dlq = `${infra.topicPrefix}iso.dead-letter`;
  const groupId = `${infra.id}-iso`;
  const registry = new Registry();
  let kafka: Kafka;
  let admin: Admin;
  let producer: BatchingProducer;
  let consumer: BatchConsumer;
  let dead: TopicReader;
  /** value -> times applied (a handler call applies all of its records, or none). */
  const applied = new Map<string, number>();
  const appliedAt = new Map<string, number>();
  let databaseDown = false;
  let transientFailures = 0;
  /** While set, a handler call waits for it (a database that holds a write without answering). */
  let frozen: Promise<void> | undefined;

  const send = (values: string[]): Promise<void> =>
    producer.send(
      topic,
      values.map((value) => ({ key: 'k', value, partition: 0 })),
    );

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [
      { name: topic, partitions: 1 },
      { name: dlq, partitions: 1 },
    ]);
    producer = new BatchingProducer(kafka, { logger });
    await producer.connect();
    dead = await startTopicReader(infra.kafkaBrokers, dlq);
    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: dlq,
      maxAttempts: MAX_ATTEMPTS,
      retryBackoffMs: 50,
      maxRetryBackoffMs: 1_000,
      logger,
      metrics: consumerMetrics(registry),
      // The broker's smallest session timeout: an outage longer than it proves the heartbeats.
      consumerConfig: {
        sessionTimeout: 6_000,
        heartbeatInterval: 1_000,
        maxBytesPerPartition: 4 * 1024 * 1024,
      },
      handler: async (messages: ConsumedMessage[]) => {
        if (frozen) await frozen;
        if (databaseDown) {
          transientFailures++;
          throw new mongo.MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
        }
        // Records the handler recognises as bad itself: dead-lettered at once.
        const rejected = messages
          .filter((m) => m.value!.subarray(0, 4).toString() === 'big-')
          .map((message) => ({ message, error: 'ContractValidationError: data: not an object' }));
        const values = messages
          .filter((m) => !rejected.some((r) => r.message === m))
          .map((m) => m.value!.toString());
        const poison = values.find((v) => v.startsWith('poison'));
        // Like a database that rejects the whole write because of one document in it.
        if (poison) throw new RangeError(`cannot apply ${poison}: value is not finite`);
        for (const v of values) {
          applied.set(v, (applied.get(v) ?? 0) + 1);
          appliedAt.set(v, Date.now());
        }
        return { rejected };
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await dead?.stop();
    await producer?.close();
    await admin?.disconnect();
  });

  const joins = async () =>
    (await metricSamples(registry, 'llmops_consumer_group_joins_total')).find(
      (s) => s.labels.group === groupId,
    )?.value;

  it('retries a transient failure with heartbeats, past the session timeout, and dead-letters nothing', async () => {
    await expectEventually(async () => expect(await joins()).toBe(1), { timeoutMs: 20_000 });
    databaseDown = true;
    const outageStarted = Date.now();
    await send(Array.from({ length: 50 }, (_, i) => `t${i}`));
    // Down for longer than the 6 s session timeout.
    await expectEventually(() => expect(Date.now() - outageStarted).toBeGreaterThan(8_000), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(transientFailures).toBeGreaterThan(3);
    expect(applied.size).toBe(0);
    databaseDown = false;

    await expectEventually(() => expect(applied.size).toBe(50), { timeoutMs: 20_000 });
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
    expect(dead.records).toEqual([]);
    // Heartbeats kept the member in its group through the outage: one join, no restart.
    expect(await joins()).toBe(1);
    const restarts = await metricSamples(registry, 'llmops_consumer_restarts_total');
    expect(restarts.find((s) => s.labels.group === groupId)?.value).toBe(0);
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(50),
    );
  });

  it('heartbeats while one handler call hangs past the session timeout, and applies its records once', async () => {
    let thaw!: () => void;
    frozen = new Promise<void>((resolve) => (thaw = resolve));
    const hangStarted = Date.now();
    await send(Array.from({ length: 10 }, (_, i) => `h${i}`));
    // The call holds for longer than the 6 s session timeout.
    await expectEventually(() => expect(Date.now() - hangStarted).toBeGreaterThan(8_000), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(applied.has('h0')).toBe(false);
    frozen = undefined;
    thaw();

    await expectEventually(() => expect(applied.get('h9')).toBe(1), { timeoutMs: 20_000 });
    expect(Array.from({ length: 10 }, (_, i) => applied.get(`h${i}`))).toEqual(Array(10).fill(1));
    // The member stayed in its group while the call hung: still one join.
    expect(await joins()).toBe(1);
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(60),
    );
  });

  it('isolates scattered poison and a burst of 1,000, applying every good record once', async () => {
    const first: string[] = [];
    const poison: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const value = i % 97 === 13 ? `poison-s${i}` : `g${i}`;
      first.push(value);
      if (value.startsWith('poison')) poison.push(value);
    }
    const burst = Array.from({ length: 1_000 }, (_, i) => `poison-b${i}`);
    poison.push(...burst);
    const after = Array.from({ length: 200 }, (_, i) => `a${i}`);
    const good = [...first, ...after].filter((v) => !v.startsWith('poison'));

    await send(first);
    await send(burst);
    const burstSentAt = Date.now();
    await send(after);

    await expectEventually(() => expect(after.every((v) => applied.has(v))).toBe(true), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const delayMs = Math.max(...after.map((v) => appliedAt.get(v)!)) - burstSentAt;
    // Seconds, not minutes: the burst costs one handler call per record, with no backoff.
    expect(delayMs).toBeLessThan(10_000);

    expect(good.filter((v) => applied.get(v) !== 1)).toEqual([]);
    expect([...applied.keys()].filter((v) => v.startsWith('poison'))).toEqual([]);
    await expectEventually(() => expect(dead.records.length).toBe(poison.length), { timeoutMs: 30_000 });
    expect(dead.records.map((r) => r.value).sort()).toEqual([...poison].sort());
    for (const r of dead.records) {
      expect(r.headers[DLQ_HEADER.error]).toBe(`RangeError: cannot apply ${r.value}: value is not finite`);
      expect(r.headers[DLQ_HEADER.attempts]).toBe(String(MAX_ATTEMPTS));
      expect(r.headers[DLQ_HEADER.originalTopic]).toBe(topic);
    }
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(60 + first.length + 1_000 + 200),
    );
    expect(await joins()).toBe(1);
    console.log(`isolation: good records after a 1,000-poison burst applied ${delayMs} ms after it was sent`);
  });

  it('dead-letters rejected records worth more than a broker request (1 MB) without stalling', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `big-${i}-${'x'.repeat(100_000)}`);
    // One produce call each: a single request of them all would exceed the broker's limit.
    for (const value of big) await send([value]);
    await send(['after-big']);
    await expectEventually(() => expect(applied.get('after-big')).toBe(1), { timeoutMs: 30_000 });
    await expectEventually(() =>
      expect(dead.records.filter((r) => r.value.startsWith('big-')).map((r) => r.value.length)).toEqual(
        big.map((v) => v.length),
      ),
    );
    for (const r of dead.records.filter((d) => d.value.startsWith('big-'))) {
      expect(r.headers[DLQ_HEADER.error]).toBe('ContractValidationError: data: not an object');
      expect(r.headers[DLQ_HEADER.attempts]).toBe('1');
    }
  });

  it('dead-letters a record that the headers push over the broker limit without its value', async () => {
    // Accepted on the source topic, but too large for the dead-letter topic once the headers are on.
    const huge = `big-huge-${'x'.repeat(1_048_300)}`;
    await send([huge]);
    await send(['after-huge']);
    await expectEventually(() => expect(applied.get('after-huge')).toBe(1), { timeoutMs: 30_000 });
    const [record] = dead.records.filter((r) => r.headers[DLQ_HEADER.error]?.includes('dropped'));
    expect(record.value).toBe('');
    expect(record.headers[DLQ_HEADER.error]).toMatch(
      /^ContractValidationError: data: not an object \(value of 1048309 bytes dropped: KafkaJSProtocolError: .*larger than the max message size/,
    );
  });
});
