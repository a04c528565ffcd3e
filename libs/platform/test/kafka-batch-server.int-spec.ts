/**
 * The platform's Nest transport (KafkaBatchServer) on the real broker, wired the way services wire
 * it (connectKafkaConsumer on a hybrid application): `@EventPattern` handlers get partition batches
 * with their context, a handler's own error reaches the consumer engine (so a deterministic one
 * dead-letters its record), topics are created before subscribing, closing the application
 * commits and leaves the group, and two consumers of one application (each its own transportId and
 * group) serve only their own handlers.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import { Controller, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { ComponentCheck } from '../src/health/health';
import { READINESS_CHECKS } from '../src/health/health.controller';
import { connectKafkaConsumer } from '../src/http/bootstrap';
import { type ConsumedMessage, DLQ_HEADER } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import type { KafkaBatchContext, KafkaBatchServer } from '../src/kafka/kafka-batch.server';
import { PlatformaticTransport } from '../src/kafka/platformatic-transport';
import { METRICS_REGISTRY } from '../src/metrics/metrics.controller';
import { KAFKA, LOGGER } from '../src/platform.tokens';
import { committedOffsets, testKafka, testLogger } from './support/kafka-test-kit';

class DeterministicError extends Error {
  override name = 'DeterministicError';
}

interface Seen {
  values: string[];
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  attempt: number;
  groupJoins: number;
  headers: string[];
}

const seen: Seen[] = [];

@Controller()
class OrdersConsumer {
  @EventPattern('orders.v1')
  orders(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext): void {
    const values = messages.map((m) => m.value!.toString());
    seen.push({
      values,
      topic: ctx.getTopic(),
      partition: ctx.getPartition(),
      firstOffset: ctx.getFirstOffset(),
      lastOffset: ctx.getLastOffset(),
      attempt: ctx.getAttempt(),
      groupJoins: ctx.getGroupJoins(),
      headers: ctx.getHeaders().map((h) => String(h['x-test'])),
    });
    if (values.includes('poison')) throw new DeterministicError('cannot apply poison');
  }
}

describe('KafkaBatchServer: @EventPattern handlers on the batch consumer (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}orders.v1`;
  const dlq = `${infra.topicPrefix}orders.dlq`;
  const groupId = `${infra.id}-strategy`;
  const checks: ComponentCheck[] = [];
  let kafka: Kafka;
  let admin: Admin;
  let producer: BatchingProducer;
  let dlqObserver: Consumer;
  let app: INestApplication;
  let server: KafkaBatchServer;
  const deadLetters: { value: string; error: string; offset: string }[] = [];

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();

    @Module({
      controllers: [OrdersConsumer],
      providers: [
        { provide: KAFKA, useValue: kafka },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        { provide: READINESS_CHECKS, useValue: checks },
      ],
    })
    class TestModule {}

    app = await NestFactory.create(TestModule, new FastifyAdapter(), { logger: false });
    server = connectKafkaConsumer(app, {
      groupId,
      fromBeginning: true,
      topicPrefix: infra.topicPrefix,
      topics: [
        { name: topic, partitions: 2 },
        { name: dlq, partitions: 1 },
      ],
      deadLetterTopic: dlq,
      maxAttempts: 2,
      retryBackoffMs: 20,
      stallAfterMs: 60_000,
    });
    await app.init();
    await app.startAllMicroservices();

    producer = new BatchingProducer(
      new PlatformaticTransport({
        brokers: infra.kafkaBrokers.split(','),
        clientId: infra.id,
        sendTimeoutMs: 10_000,
      }),
      { logger },
    );
    await producer.connect();
    dlqObserver = kafka.consumer({ groupId: `${infra.id}-strategy-dlq` });
    await dlqObserver.connect();
    await dlqObserver.subscribe({ topics: [dlq], fromBeginning: true });
    await dlqObserver.run({
      eachMessage: async ({ message }) => {
        deadLetters.push({
          value: message.value!.toString(),
          error: String(message.headers?.[DLQ_HEADER.error]),
          offset: String(message.headers?.[DLQ_HEADER.originalOffset]),
        });
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await dlqObserver?.disconnect();
    await producer?.close();
    await admin?.disconnect();
  });

  const send = (values: string[], partition: number): Promise<void> =>
    producer.send(
      topic,
      values.map((value) => ({ key: 'k', value, partition, headers: { 'x-test': `h-${value}` } })),
    );

  it('creates its topics in listen() and subscribes to the topics of its handlers', async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic, dlq] });
    expect(topics.find((t) => t.name === topic)?.partitions).toHaveLength(2);
    expect(server.unwrap()?.isRunning).toBe(true);
    expect(checks.map((c) => c.name)).toEqual([`kafka-consumer:${groupId}`]);
  });

  it('hands each partition batch to the @EventPattern handler with its context', async () => {
    await send(['a0', 'a1', 'a2'], 1);
    await expectEventually(() => expect(seen.flatMap((s) => s.values)).toEqual(['a0', 'a1', 'a2']), {
      timeoutMs: 20_000,
    });
    expect(seen).toEqual([
      {
        values: ['a0', 'a1', 'a2'],
        topic,
        partition: 1,
        firstOffset: '0',
        lastOffset: '2',
        attempt: 1,
        // The joins so far (a rebalance while the group forms may add one).
        groupJoins: expect.any(Number),
        headers: ['h-a0', 'h-a1', 'h-a2'],
      },
    ]);
    expect(seen[0].groupJoins).toBeGreaterThanOrEqual(1);
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(1)).toBe(3),
    );
  });

  it("dead-letters the record a handler keeps failing on, with the handler's own error, and moves on", async () => {
    await send(['b0', 'poison', 'b2'], 0);
    await expectEventually(() => expect(deadLetters).toHaveLength(1), { timeoutMs: 20_000 });
    // The error the handler threw, not Nest's generic RPC error: the engine classified it.
    expect(deadLetters[0]).toEqual({
      value: 'poison',
      error: 'DeterministicError: cannot apply poison',
      offset: '1',
    });
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(3),
    );
    const applied = seen.filter((s) => s.partition === 0 && s.values.length === 1).map((s) => s.values[0]);
    expect(applied).toEqual(expect.arrayContaining(['b0', 'b2']));
  });

  it('close() commits the batch in progress, leaves the group and removes its readiness check', async () => {
    await send(['c0', 'c1'], 1);
    await expectEventually(() => expect(seen.flatMap((s) => s.values)).toContain('c1'), {
      timeoutMs: 20_000,
    });
    await app.close();
    expect(server.unwrap()).toBeUndefined();
    expect(checks).toEqual([]);
    expect((await committedOffsets(admin, groupId, topic)).get(1)).toBe(5);
    const { members } = await admin.describeGroups([groupId]).then((d) => d.groups[0]);
    expect(members).toEqual([]);
  });
});

const PER_REPLICA = Symbol('per-replica');
const SHARED = Symbol('shared');
const received: Array<{ consumer: string; topic: string; values: string[] }> = [];

@Controller()
class PerReplicaConsumer {
  @EventPattern('notices.v1', PER_REPLICA)
  notices(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext): void {
    received.push({
      consumer: 'per-replica',
      topic: ctx.getTopic(),
      values: messages.map((m) => String(m.value)),
    });
  }
}

@Controller()
class SharedConsumer {
  @EventPattern('tasks.v1', SHARED)
  tasks(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext): void {
    received.push({
      consumer: 'shared',
      topic: ctx.getTopic(),
      values: messages.map((m) => String(m.value)),
    });
  }
}

describe('KafkaBatchServer: two consumer groups in one application (transportId)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const notices = `${infra.topicPrefix}notices.v1`;
  const tasks = `${infra.topicPrefix}tasks.v1`;
  let kafka: Kafka;
  let admin: Admin;
  let app: INestApplication;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();

    @Module({
      controllers: [PerReplicaConsumer, SharedConsumer],
      providers: [
        { provide: KAFKA, useValue: kafka },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        { provide: READINESS_CHECKS, useValue: [] },
      ],
    })
    class TwoConsumersModule {}

    app = await NestFactory.create(TwoConsumersModule, new FastifyAdapter(), { logger: false });
    for (const [transportId, groupId, topic] of [
      [PER_REPLICA, `${infra.id}-per-replica`, notices],
      [SHARED, `${infra.id}-shared`, tasks],
    ] as const) {
      connectKafkaConsumer(app, {
        transportId,
        groupId,
        fromBeginning: true,
        topicPrefix: infra.topicPrefix,
        topics: [{ name: topic, partitions: 1 }],
        deadLetterTopic: `${infra.topicPrefix}two-consumers.dlq`,
      });
    }
    await app.init();
    await app.startAllMicroservices();
  });

  afterAll(async () => {
    await app?.close();
    await admin?.disconnect();
  });

  it('each group subscribes to and serves only the handlers tagged with its transportId', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: notices, acks: -1, messages: [{ value: 'n0' }] });
    await producer.send({ topic: tasks, acks: -1, messages: [{ value: 't0' }] });
    await producer.disconnect();
    await expectEventually(() =>
      expect([...received].sort((a, b) => a.consumer.localeCompare(b.consumer))).toEqual([
        { consumer: 'per-replica', topic: notices, values: ['n0'] },
        { consumer: 'shared', topic: tasks, values: ['t0'] },
      ]),
    );
    await expectEventually(async () => {
      expect((await committedOffsets(admin, `${infra.id}-per-replica`, notices)).get(0)).toBe(1);
      expect((await committedOffsets(admin, `${infra.id}-shared`, tasks)).get(0)).toBe(1);
    });
    // Neither group ever read the other's topic.
    expect((await committedOffsets(admin, `${infra.id}-per-replica`, tasks)).get(0)).toBe(-1);
    expect((await committedOffsets(admin, `${infra.id}-shared`, notices)).get(0)).toBe(-1);
  });
});
