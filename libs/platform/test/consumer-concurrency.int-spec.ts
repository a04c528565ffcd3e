/**
 * partitionsConsumedConcurrently > 1: batches of different partition numbers run at once, batches
 * of one partition number never do, whatever their topic (handlers may share state per partition
 * number, as analytics does for partition p of its co-partitioned topics). A batch's commit does
 * not hold its partition number's lane.
 */
import { expectEventually, groupProgress, testInfra } from '@llmops/testing';
import type { Kafka } from 'kafkajs';
import { BatchConsumer } from '../src/kafka/batch-consumer';
import { createTopics, testKafka, testLogger } from './support/kafka-test-kit';

describe('BatchConsumer with partitionsConsumedConcurrently (real Kafka)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topics = [`${infra.topicPrefix}lanes.a`, `${infra.topicPrefix}lanes.b`];
  const PARTITIONS = 3;
  const PER_PARTITION = 20;
  let kafka: Kafka;
  let consumer: BatchConsumer | undefined;
  let committing: BatchConsumer | undefined;

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    await createTopics(
      kafka,
      topics.map((name) => ({ name, partitions: PARTITIONS })),
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.sendBatch({
      acks: -1,
      topicMessages: topics.map((topic) => ({
        topic,
        messages: Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => ({
          partition: i % PARTITIONS,
          value: `v${i}`,
        })),
      })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await committing?.stop();
  });

  /** Both topics, 4 batches at once, from the beginning, in group `groupId`. */
  const laneOptions = (groupId: string) => ({
    groupId,
    topics,
    fromBeginning: true,
    deadLetterTopic: `${infra.topicPrefix}lanes.dlq`,
    logger,
    partitionsConsumedConcurrently: 4,
    consumerConfig: { maxWaitTimeInMs: 500 },
  });

  it('runs other partition numbers while one is busy, never two batches of one number at once', async () => {
    const active = new Map<number, string>();
    const overlaps: string[] = [];
    const handled = new Map<string, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding: string | undefined;
    consumer = new BatchConsumer(kafka, {
      ...laneOptions(`${infra.id}-lanes`),
      handler: async (messages, ctx) => {
        const lane = `${ctx.topic}:${ctx.partition}`;
        const other = active.get(ctx.partition);
        if (other !== undefined) overlaps.push(`${lane} while ${other}`);
        active.set(ctx.partition, lane);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          // The first batch of partition 0 stays in the handler (like a batch waiting on its
          // database) until every other partition number's records were handled.
          if (ctx.partition === 0 && holding === undefined) {
            holding = lane;
            await held;
          }
          handled.set(lane, (handled.get(lane) ?? 0) + messages.length);
        } finally {
          inFlight--;
          active.delete(ctx.partition);
        }
      },
    });
    await consumer.start();

    try {
      const others = topics.flatMap((t) => [1, 2].map((p) => `${t}:${p}`));
      await expectEventually(() => {
        expect(holding).toBeDefined();
        for (const lane of others) expect(handled.get(lane)).toBe(PER_PARTITION);
      });
      // Partition 0 of the other topic waited behind the held batch.
      const sibling = topics.map((t) => `${t}:0`).find((lane) => lane !== holding)!;
      expect(handled.get(sibling)).toBeUndefined();
      expect(maxInFlight).toBeGreaterThan(1);
    } finally {
      // Never leave the batch held (stop() would wait for it).
      release();
    }
    await expectEventually(() => {
      for (const t of topics)
        for (let p = 0; p < PARTITIONS; p++) expect(handled.get(`${t}:${p}`)).toBe(PER_PARTITION);
    });
    expect(overlaps).toEqual([]);
  });

  it('handles the next batch of a partition number while the one before it is being committed', async () => {
    const group = `${infra.id}-lanes-commit`;
    const handled = new Map<string, number>();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding: string | undefined;
    committing = new BatchConsumer(kafka, {
      ...laneOptions(group),
      handler: async (messages, ctx) => {
        const lane = `${ctx.topic}:${ctx.partition}`;
        handled.set(lane, (handled.get(lane) ?? 0) + messages.length);
      },
      // The first batch of partition 0 to be committed waits here, after its handler ended.
      beforeCommit: async (info) => {
        if (info.partition !== 0 || holding !== undefined) return;
        holding = `${info.topic}:0`;
        await held;
      },
    });
    await committing.start();

    try {
      // The other topic's partition 0 is in the same fetch; kafkajs fetches again only once the
      // held batch's commit has ended, so it is handled now only if the lane did not wait for it.
      await expectEventually(() => {
        expect(holding).toBeDefined();
        const sibling = topics.map((t) => `${t}:0`).find((lane) => lane !== holding)!;
        expect(handled.get(sibling)).toBe(PER_PARTITION);
      });
    } finally {
      release();
    }
    // Every batch, the held one included, is committed.
    await expectEventually(async () => expect((await groupProgress(kafka, group, topics)).lag).toBe(0));
  });
});
