import { Kafka, logLevel } from 'kafkajs';

export interface ReadRecord {
  key: string | null;
  value: Record<string, unknown> & { id: string; type: string; data: Record<string, unknown> };
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning in a fresh group, collecting every record, until `done`
 * returns true for what has been read so far or the deadline passes.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  done: (records: ReadRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers, clientId: 'registry-test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random().toString(16).slice(2)}`,
  });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone: () => void = () => undefined;
    const finished = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = v.toString();
        records.push({
          key: message.key?.toString() ?? null,
          value: JSON.parse(message.value?.toString() ?? 'null') as ReadRecord['value'],
          headers,
        });
        if (done(records)) resolveDone();
      },
    });
    if (!done(records)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    return records;
  } finally {
    await consumer.disconnect();
  }
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
