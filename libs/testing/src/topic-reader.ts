/**
 * Reads a topic from the beginning in a fresh consumer group, for asserting what a service
 * published. `startTopicReader` keeps collecting until stopped; `readTopicUntil` returns once a
 * condition holds on what was read (or the timeout passes, leaving the assertion to the caller).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export interface TopicRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export interface TopicReader {
  /** Grows as records arrive. */
  records: TopicRecord[];
  stop(): Promise<void>;
}

export async function startTopicReader(brokers: string | string[], topic: string): Promise<TopicReader> {
  const kafka = new Kafka({
    brokers: typeof brokers === 'string' ? brokers.split(',') : brokers,
    clientId: `test-reader-${randomUUID()}`,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` });
  const records: TopicRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) {
        if (v !== undefined) headers[k] = v.toString();
      }
      records.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers,
        partition,
        offset: message.offset,
      });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

export async function readTopicUntil(
  brokers: string | string[],
  topic: string,
  until: (records: TopicRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<TopicRecord[]> {
  const reader = await startTopicReader(brokers, topic);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!until(reader.records) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return [...reader.records];
  } finally {
    await reader.stop();
  }
}
