import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  name: string;
  partitions: number;
  compacted?: boolean;
  retentionMs?: number;
}

/** Creates missing topics (existing ones are left as they are) and waits for their leaders. */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: -1,
        configEntries: [
          ...(t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
          ...(t.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(t.retentionMs) }] : []),
        ],
      })),
    });
  } catch (err) {
    // Another instance may have created the same topic concurrently.
    if (!(err instanceof Error && /already exists/i.test(err.message))) throw err;
  } finally {
    await admin.disconnect();
  }
}
