import type { Producer } from 'kafkajs';

export interface TopicMessage {
  topic: string;
  key: string;
  value: string;
}

/**
 * Sends `messages` in their order, `chunk` at a time, each chunk one `sendBatch` acknowledged by
 * every in-sync replica: a topic partition receives its messages in the order given.
 */
export async function sendInOrder(
  producer: Producer,
  messages: readonly TopicMessage[],
  chunk = 2_000,
): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    const byTopic = new Map<string, Array<{ key: string; value: string }>>();
    for (const { topic, key, value } of messages.slice(i, i + chunk)) {
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value });
      byTopic.set(topic, list);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
    });
  }
}
