/**
 * Readiness tells the truth about a consumer: one whose handler cannot make progress while its
 * group has lag makes /health/ready answer 503 naming `kafka-consumer:<group>` within the stall
 * time, with the stalled gauge at 1; once it commits again, readiness is 200 and the gauge 0.
 * The lag is measured by a background probe, independently of batches arriving.
 */
import { Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { expectEventually, TEST_KEY_PEPPER, testInfra } from '@llmops/testing';
import type { Kafka } from 'kafkajs';
import { mongo } from 'mongoose';
import type { Registry } from 'prom-client';
import { baseServiceConfig, loadConfig } from '../src/config/config';
import type { ComponentCheck } from '../src/health/health';
import { READINESS_CHECKS } from '../src/health/health.controller';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import { consumerMetrics } from '../src/kafka/kafka-metrics';
import { METRICS_REGISTRY } from '../src/metrics/metrics.controller';
import { PlatformModule } from '../src/platform.module';
import { createTopics, metricSamples, testKafka, testLogger } from './support/kafka-test-kit';

const STALL_MS = 2_000;

describe('readiness of a stalled consumer (real Kafka, HTTP)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}ready.source`;
  const groupId = `${infra.id}-ready`;
  let kafka: Kafka;
  let producer: BatchingProducer;
  let app: NestFastifyApplication;
  let consumer: BatchConsumer | undefined;
  let registry: Registry;
  let blocked = true;
  let applied = 0;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    await createTopics(kafka, [{ name: topic, partitions: 2 }]);
    producer = new BatchingProducer(kafka, { logger });
    await producer.connect();
    const config = loadConfig(baseServiceConfig(3999, 'readiness-test'), {
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      LOG_LEVEL: 'silent',
      HEALTH_PROBE_INTERVAL_MS: '200',
    });
    @Module({ imports: [PlatformModule.forRoot({ config, topics: [], mongo: false })] })
    class TestAppModule {}
    app = await NestFactory.create<NestFastifyApplication>(TestAppModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    registry = app.get<Registry>(METRICS_REGISTRY);
  });

  afterAll(async () => {
    await consumer?.stop();
    await app?.close();
    await producer?.close();
  });

  const ready = async (): Promise<{ status: number; failing: string[]; body: Record<string, unknown> }> => {
    const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/health/ready' });
    const body = res.json<Record<string, unknown>>();
    return { status: res.statusCode, failing: (body.failing as string[]) ?? [], body };
  };
  const stalledGauge = async () =>
    (await metricSamples(registry, 'llmops_consumer_stalled')).find((s) => s.labels.group === groupId)?.value;

  it('answers 503 naming the consumer while it is stuck with lag, and 200 after it recovers', async () => {
    await expectEventually(async () => expect((await ready()).status).toBe(200), { timeoutMs: 20_000 });
    const checks = app.get<ComponentCheck[]>(READINESS_CHECKS);
    consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: `${infra.topicPrefix}ready.dlq`,
      logger,
      metrics: consumerMetrics(registry),
      maxRetryBackoffMs: 500,
      stallAfterMs: STALL_MS,
      lagProbeIntervalMs: 250,
      readinessChecks: checks,
      handler: async (messages) => {
        // The database is unreachable: a transient failure, retried for as long as it lasts.
        if (blocked) throw new mongo.MongoNetworkTimeoutError('connection 4 to 127.0.0.1:27017 timed out');
        applied += messages.length;
      },
    });
    await consumer.start();
    expect(checks.map((c) => c.name)).toContain(`kafka-consumer:${groupId}`);
    // Nothing to consume yet: no lag, so not stalled however long it idles.
    await expectEventually(async () => expect(consumer!.progress.lag).toBe(0), { timeoutMs: 20_000 });
    expect((await ready()).status).toBe(200);

    await producer.send(topic, [
      { key: 'a', value: 'one', partition: 0 },
      { key: 'b', value: 'two', partition: 1 },
    ]);
    const sentAt = Date.now();
    await expectEventually(
      async () => {
        const r = await ready();
        expect(r.status).toBe(503);
        expect(r.failing).toEqual([`kafka-consumer:${groupId}`]);
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const detectedMs = Date.now() - sentAt;
    expect(detectedMs).toBeGreaterThanOrEqual(STALL_MS);
    expect(JSON.stringify((await ready()).body)).toMatch(/2 messages behind and nothing committed for \d+ s/);
    expect(await stalledGauge()).toBe(1);
    expect(applied).toBe(0);

    blocked = false;
    await expectEventually(async () => expect((await ready()).status).toBe(200), { timeoutMs: 20_000 });
    expect(applied).toBe(2);
    expect(await stalledGauge()).toBe(0);
    console.log(
      `readiness: stall reported ${detectedMs} ms after the lag appeared (stall time ${STALL_MS} ms)`,
    );

    await consumer.stop();
    expect(checks.map((c) => c.name)).not.toContain(`kafka-consumer:${groupId}`);
    consumer = undefined;
  });
});
