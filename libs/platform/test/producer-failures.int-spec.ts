/**
 * Failure semantics of the micro-batching producer against real brokers: a failed batch
 * rejects exactly its own callers with KafkaUnavailableError, close() delivers what it had
 * accepted and refuses the rest, and a broker outage turns into bounded 503s followed by
 * recovery, never into an acknowledged-but-lost event.
 */
import { type DedicatedKafka, expectEventually, startDedicatedKafka, testInfra } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { KafkaUnavailableError } from '../src/errors/app-error';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { BatchingProducer, ProducerClosedError } from '../src/kafka/batching-producer';
import { PlatformaticTransport } from '../src/kafka/platformatic-transport';
import { createTopics, messagesInTopic, testKafka, testLogger } from './support/kafka-test-kit';

type Outcome = { ok: true } | { ok: false; error: unknown };

function settle(p: Promise<void>): Promise<Outcome> {
  return p.then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function batchOf(tag: string, size: number): { key: string; value: string }[] {
  return Array.from({ length: size }, (_, i) => ({ key: `k${i % 3}`, value: `${tag}-${i}` }));
}

describe('BatchingProducer failure semantics (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const good = `${infra.topicPrefix}failures.good`;
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    await createTopics(kafka, [{ name: good, partitions: 3 }]);
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('rejects only the callers whose batch failed', async () => {
    const missing = `${infra.topicPrefix}failures.does-not-exist`;
    const before = await messagesInTopic(admin, good);
    // Every call fills a batch exactly, so calls and batches map one to one.
    const producer = new BatchingProducer(kafka, { maxBatchMessages: 10, logger });
    await producer.connect();
    try {
      const calls = [
        settle(producer.send(good, batchOf('a', 10))),
        settle(producer.send(missing, batchOf('bad', 10))),
        settle(producer.send(good, batchOf('b', 10))),
        settle(producer.send(good, batchOf('c', 10))),
      ];
      const [a, bad, b, c] = await Promise.all(calls);
      expect([a, b, c]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(bad.ok).toBe(false);
      expect((bad as { error: unknown }).error).toBeInstanceOf(KafkaUnavailableError);
      expect(await messagesInTopic(admin, good)).toBe(before + 30);
      // allowAutoTopicCreation is off: the failed send must not have created the topic.
      expect(await admin.listTopics()).not.toContain(missing);

      // Callers that share a failed batch share its fate, including the good-topic caller:
      // none of them was told "accepted", and nothing of that batch was written.
      const shared = await Promise.all([
        settle(producer.send(good, batchOf('d', 4))),
        settle(producer.send(missing, batchOf('bad2', 4))),
      ]);
      for (const o of shared) {
        expect(o.ok).toBe(false);
        expect((o as { error: unknown }).error).toBeInstanceOf(KafkaUnavailableError);
      }
      expect(await messagesInTopic(admin, good)).toBe(before + 30);

      // The producer is healthy afterwards.
      await producer.send(good, batchOf('e', 5));
      expect(await messagesInTopic(admin, good)).toBe(before + 35);
    } finally {
      await producer.close();
    }
  });

  it('close() delivers everything accepted before it and rejects later sends', async () => {
    const before = await messagesInTopic(admin, good);
    // A long linger: without close() forcing the flush, these would still be waiting.
    const producer = new BatchingProducer(kafka, { maxBatchMessages: 100, lingerMs: 60_000, logger });
    await producer.connect();
    const accepted = Array.from({ length: 250 }, (_, i) =>
      settle(producer.send(good, batchOf(`close-${i}`, 1))),
    );
    const closing = producer.close();
    const late = settle(producer.send(good, batchOf('late', 1)));
    await closing;
    expect(await Promise.all(accepted)).toEqual(accepted.map(() => ({ ok: true })));
    const lateOutcome = await late;
    expect(lateOutcome.ok).toBe(false);
    expect((lateOutcome as { error: unknown }).error).toBeInstanceOf(ProducerClosedError);
    expect((lateOutcome as { error: unknown }).error).toBeInstanceOf(KafkaUnavailableError);
    await expect(producer.send(good, batchOf('after', 1))).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(await messagesInTopic(admin, good)).toBe(before + 250);
  });

  describe('with a dedicated broker stopped mid-way', () => {
    let dedicated: DedicatedKafka | undefined;
    let running = false;
    let traffic: Promise<void> | undefined;
    const cleanup: (() => Promise<void>)[] = [];

    afterAll(async () => {
      running = false;
      await traffic;
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
      await dedicated?.destroy();
    });

    it('fails fast with KafkaUnavailableError during the outage, loses no acknowledged event, and recovers (producer, consumer, readiness)', async () => {
      dedicated = await startDedicatedKafka(`${infra.id}-producer`);
      const dk = testKafka(dedicated.brokers, `${infra.id}-dedicated`, logger);
      const topic = `${infra.topicPrefix}outage`;
      await createTopics(dk, [{ name: topic, partitions: 2 }]);
      const sendTimeoutMs = 3_000;
      const producer = new BatchingProducer(dk, { sendTimeoutMs, maxBatchMessages: 50, logger });
      await producer.connect();
      cleanup.push(() => producer.close());
      // Readiness checks ride along, each probing the client that produces: the services' producer
      // (@platformatic/kafka) connected before the outage, and this producer's, first used during it.
      const servicesProducer = new BatchingProducer(
        new PlatformaticTransport({
          brokers: dedicated.brokers.split(','),
          clientId: infra.id,
          sendTimeoutMs,
        }),
        { logger },
      );
      await servicesProducer.connect();
      cleanup.push(() => servicesProducer.close());
      const healthBefore = servicesProducer.readinessCheck(1_500);
      await healthBefore.check();
      const healthDuring = producer.readinessCheck(1_500);
      // A consumer running across the outage must resume by itself (kafkajs consumers are known
      // to go idle after broker maintenance).
      const stored = new Set<number>();
      const consumer = new BatchConsumer(dk, {
        groupId: `${infra.id}-outage-check`,
        topics: [topic],
        fromBeginning: true,
        deadLetterTopic: `${infra.topicPrefix}outage.dlq`,
        logger,
        // After the broker restart kafkajs rejoins as a new member, and the coordinator waits
        // for the old member's session to expire first: 30 s by default, 6 s here.
        consumerConfig: { sessionTimeout: 6_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 1_000 },
        handler: async (messages) => {
          for (const m of messages) stored.add(Number(m.value!.toString()));
        },
      });
      cleanup.push(() => consumer.stop());
      await consumer.start();

      const outcomes = new Map<number, Outcome & { ms: number }>();
      let seq = 0;
      running = true;
      const pending: Promise<void>[] = [];
      const sendOne = (): void => {
        const id = seq++;
        const started = Date.now();
        pending.push(
          settle(producer.send(topic, [{ key: `k${id % 7}`, value: String(id) }])).then((o) => {
            outcomes.set(id, { ...o, ms: Date.now() - started });
          }),
        );
      };
      traffic = (async () => {
        while (running) {
          for (let i = 0; i < 5; i++) sendOne();
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      await expectEventually(() =>
        expect([...outcomes.values()].filter((o) => o.ok).length).toBeGreaterThan(200),
      );
      await expectEventually(() => expect(stored.size).toBeGreaterThan(100), { timeoutMs: 20_000 });
      await dedicated.stop();
      const failuresBefore = (): number => [...outcomes.values()].filter((o) => !o.ok).length;
      await expectEventually(() => expect(failuresBefore()).toBeGreaterThan(50), { timeoutMs: 20_000 });
      for (const health of [healthBefore, healthDuring]) {
        const checkStarted = Date.now();
        await expect(health.check()).rejects.toThrow();
        expect(Date.now() - checkStarted).toBeLessThan(3_000 + 1_000);
      }
      await dedicated.start();
      // Readiness recovers by itself once the broker is back.
      await expectEventually(() => healthBefore.check(), { timeoutMs: 20_000 });
      await expectEventually(() => healthDuring.check(), { timeoutMs: 20_000 });
      // Recovery: sends made after the restart are acknowledged again.
      const restartedAt = seq;
      await expectEventually(
        () => expect([...outcomes].filter(([id, o]) => id > restartedAt && o.ok).length).toBeGreaterThan(100),
        { timeoutMs: 30_000 },
      );
      running = false;
      await traffic;
      await Promise.all(pending);
      await producer.close();

      const failures = [...outcomes.values()].filter(
        (o): o is { ok: false; error: unknown; ms: number } => !o.ok,
      );
      expect(failures.length).toBeGreaterThan(0);
      for (const f of failures) expect(f.error).toBeInstanceOf(KafkaUnavailableError);
      // Bounded: nobody waits much longer than the send timeout for a 503.
      expect(Math.max(...failures.map((f) => f.ms))).toBeLessThan(sendTimeoutMs + 1_500);

      // Every acknowledged event is in the topic (rejected ones may or may not be: consumers dedupe),
      // and the consumer that lived through the outage rejoined and read them.
      const acked = [...outcomes].filter(([, o]) => o.ok).map(([id]) => id);
      await expectEventually(() => expect(acked.filter((id) => !stored.has(id))).toEqual([]), {
        timeoutMs: 30_000,
      });
    });
  });
});
