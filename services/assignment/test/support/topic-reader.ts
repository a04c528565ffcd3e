/** Reads a topic from the beginning into memory (for asserting what the service published). */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface ReadRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
}

export interface TopicReader {
  records: ReadRecord[];
  stop(): Promise<void>;
}

export async function readTopic(brokers: string, topic: string): Promise<TopicReader> {
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: `reader-${randomUUID()}`,
    logLevel: logLevel.NOTHING,
  });
  const consumer: Consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {}))
        if (v !== undefined) headers[k] = v.toString();
      records.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers,
        partition,
      });
    },
  });
  return {
    records,
    async stop() {
      await consumer.disconnect();
    },
  };
}
