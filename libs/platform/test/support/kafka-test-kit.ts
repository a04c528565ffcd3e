/**
 * Helpers shared by the platform's integration tests. They talk to the real broker; nothing
 * here fakes Kafka. The platform is imported by relative path because these tests live inside
 * the platform project itself (an alias import of one's own project is a circular dependency).
 */
import type { Admin, Kafka } from 'kafkajs';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createKafka } from '../../src/kafka/kafka-client';
import { ensureTopics, type TopicSpec } from '../../src/kafka/topics';

/** Silent unless TEST_LOG_LEVEL is set (the DLQ and failure tests log errors on purpose). */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function testKafka(brokers: string, clientId: string, logger: Logger = testLogger()): Kafka {
  return createKafka({ brokers: brokers.split(','), clientId, logger });
}

export async function createTopics(kafka: Kafka, topics: TopicSpec[]): Promise<void> {
  await ensureTopics(kafka, topics);
}

/**
 * Sum over partitions of the high watermark: how many messages a fresh topic holds. Right after a
 * topic is created the broker may still answer "not the leader" (a retriable protocol error that
 * `fetchTopicOffsets` does not retry itself); the read is retried for up to 10 s, any other error
 * is thrown at once.
 */
export async function messagesInTopic(admin: Admin, topic: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } catch (err) {
      const retriable = (err as { retriable?: unknown }).retriable === true;
      if (!retriable || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Committed offsets of a group for one topic, by partition (-1 when none). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(entry.partitions.map((p) => [p.partition, Number(p.offset)]));
}

export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The current samples of a metric in a registry (histograms include _bucket/_sum/_count). */
export async function metricSamples(registry: Registry, name: string): Promise<MetricSample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const data = await metric.get();
  return data.values as MetricSample[];
}
