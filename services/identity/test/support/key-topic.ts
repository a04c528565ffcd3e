import { TOPICS, topicName } from '@llmops/contracts';
import { readTopicUntil } from '@llmops/testing';
import { Kafka, logLevel } from 'kafkajs';

export interface KeySnapshot {
  keyId: string;
  revokedAt: string | null;
  projectDeleted: boolean;
}

/**
 * The last snapshot of each key on the apiKeys topic, read up to the end offsets the topic has when
 * called (what a service replica starting now ends up with once it caught up).
 */
export async function lastKeySnapshots(brokers: string, prefix: string): Promise<Map<string, KeySnapshot>> {
  const topic = topicName(TOPICS.apiKeys, prefix);
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const records = await readTopicUntil(brokers, topic, (read) =>
    ends.every(
      (end) =>
        end.high === '0' ||
        read.some((r) => r.partition === end.partition && BigInt(r.offset) >= BigInt(end.high) - 1n),
    ),
  );
  const last = new Map<string, KeySnapshot>();
  for (const record of [...records].sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))) {
    if (record.key) last.set(record.key, (JSON.parse(record.value) as { data: KeySnapshot }).data);
  }
  return last;
}
