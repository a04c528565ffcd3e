/**
 * Reads a topic from the beginning in a fresh consumer group, for asserting what a service
 * published. `startTopicReader` keeps collecting until stopped; `readTopicUntil` returns once a
 * condition holds on what was read (or the timeout passes, leaving the assertion to the caller);
 * `readTopicToEnd` returns everything the topic held when it was called, so a test counting ids
 * also sees a duplicate written after the last id it expects.
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

/**
 * Every record the topic holds up to its end offsets at the time of the call (read from the
 * beginning in a fresh group); throws when they are not all read within `timeoutMs`. For topics
 * written without transactions, whose offsets are all data records.
 */
export async function readTopicToEnd(
  brokers: string | string[],
  topic: string,
  timeoutMs = 60_000,
): Promise<TopicRecord[]> {
  const kafka = new Kafka({
    brokers: typeof brokers === 'string' ? brokers.split(',') : brokers,
    clientId: `test-reader-${randomUUID()}`,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = new Map(
      (await admin.fetchTopicOffsets(topic))
        .filter((p) => BigInt(p.high) > BigInt(p.low))
        .map((p) => [p.partition, BigInt(p.high) - 1n]),
    );
  } finally {
    await admin.disconnect();
  }
  const reached = (rs: TopicRecord[]) =>
    new Set(rs.filter((r) => BigInt(r.offset) >= (ends.get(r.partition) ?? -1n)).map((r) => r.partition));
  const records = await readTopicUntil(brokers, topic, (rs) => reached(rs).size >= ends.size, timeoutMs);
  const done = reached(records);
  const missing = [...ends.keys()].filter((p) => !done.has(p));
  if (missing.length > 0) {
    throw new Error(
      `${topic}: partitions ${missing.join(', ')} not read to their end within ${timeoutMs} ms`,
    );
  }
  return records;
}
