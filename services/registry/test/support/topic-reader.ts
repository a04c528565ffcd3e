import { readTopicUntil, type TopicRecord } from '@llmops/testing';
import { Kafka, logLevel } from 'kafkajs';

export interface ReadRecord {
  key: string | null;
  value: Record<string, unknown> & { id: string; type: string; data: Record<string, unknown> };
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning until `done` holds for what has been read (or the deadline
 * passes), with each value parsed as the CloudEvent it is.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  done: (records: ReadRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const parse = (records: TopicRecord[]): ReadRecord[] =>
    records.map((r) => ({
      key: r.key,
      value: JSON.parse(r.value || 'null') as ReadRecord['value'],
      headers: r.headers,
    }));
  return parse(await readTopicUntil(brokers, topic, (records) => done(parse(records)), timeoutMs));
}

/** Every record on the topic up to its current end. */
export async function readAll(brokers: string[], topic: string, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers, clientId: 'registry-test-offsets', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return [];
  return readTopic(brokers, topic, (records) => records.length >= total, timeoutMs);
}
