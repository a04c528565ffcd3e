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
    if (missing.length > 0) await createMissing(admin, topics, missing);
    await waitForLeaders(
      admin,
      topics.map((t) => t.name),
    );
  } finally {
    await admin.disconnect();
  }
}

type Admin = ReturnType<Kafka['admin']>;

async function createMissing(admin: Admin, topics: TopicSpec[], missing: TopicSpec[]): Promise<void> {
  try {
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
    // Another service or instance may have created the same topics concurrently (kafkajs then
    // reports "Topic creation errors"), or kafkajs' own leader wait gave up early on
    // UNKNOWN_TOPIC_OR_PARTITION: fine as long as every topic becomes usable.
    try {
      await waitForLeaders(
        admin,
        topics.map((t) => t.name),
      );
    } catch {
      throw err;
    }
  }
}

/**
 * A topic another process has just created may not have leaders yet; subscribing to it then
 * fails with UNKNOWN_TOPIC_OR_PARTITION. Wait (bounded) until every partition has a leader.
 */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without leaders after ${timeoutMs} ms: ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
