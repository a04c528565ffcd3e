import type { Kafka } from 'kafkajs';

/** Where a consumer group stands over some topics. */
export interface GroupProgress {
  /** Sum of the committed offsets (0 for a partition the group never committed). */
  committed: number;
  /** Records not yet committed, summed over partitions (0 = everything committed). */
  lag: number;
}

/** How long a retriable broker answer is retried before it fails the read. */
const RETRY_FOR_MS = 30_000;

/**
 * The group's committed offsets and lag over `topics`. A busy or just-started broker may answer a
 * read with a retriable protocol error (`NOT_COORDINATOR` while the group's coordinator moves,
 * `COORDINATOR_LOAD_IN_PROGRESS`, "not the leader" right after a topic is created), which
 * kafkajs' admin does not retry for these reads. Such answers are retried for up to 30 s; any
 * other error is thrown at once.
 */
export async function groupProgress(kafka: Kafka, groupId: string, topics: string[]): Promise<GroupProgress> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      try {
        const offsets = await admin.fetchOffsets({ groupId, topics });
        let committed = 0;
        let lag = 0;
        for (const topic of topics) {
          const c = offsets.find((x) => x.topic === topic);
          for (const p of await admin.fetchTopicOffsets(topic)) {
            const co = c?.partitions.find((x) => x.partition === p.partition);
            const at = co && Number(co.offset) >= 0 ? Number(co.offset) : 0;
            committed += at;
            lag += Number(p.high) - at;
          }
        }
        return { committed, lag };
      } catch (err) {
        if ((err as { retriable?: unknown }).retriable !== true || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
