import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { KafkaBatchServer } from '../src/kafka/kafka-batch.server';

describe('KafkaBatchServer', () => {
  it('refuses to start with two @EventPattern handlers on one topic, whose merged result would hide rejections', async () => {
    // No broker is needed: the check runs before the transport creates topics or connects.
    const server = new KafkaBatchServer({
      kafka: {} as Kafka,
      groupId: 'g',
      fromBeginning: true,
      deadLetterTopic: 'dlq',
      logger: pino({ level: 'silent' }),
    });
    server.addHandler('llmops.feedback.v1', async () => ({ rejected: [] }), true);
    server.addHandler('llmops.feedback.v1', async () => undefined, true);
    const err = await new Promise<unknown>((resolve) => void server.listen(resolve));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /more than one @EventPattern handler for topic\(s\) llmops\.feedback\.v1/,
    );
  });
});
