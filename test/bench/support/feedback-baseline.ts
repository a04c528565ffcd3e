/**
 * The feedback benchmarks' workload and their Kafka baseline: the batch items, the events the
 * service publishes for them (serialized by the contracts lib), and a kafkajs producer sending those
 * events with `sendBatch` (acks -1) from concurrent senders: the rate Kafka takes them on this host
 * with nothing in front of it.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  serializeEvent,
} from '@llmops/contracts';
import { contextHeaders, ensureTopics, newContext } from '@llmops/platform';
import { Kafka, logLevel } from 'kafkajs';
import { v7 as uuidv7 } from 'uuid';
import { BENCH_EXPERIMENT } from './feedback-claims';
import { hostBusySince, hostCpu, KAFKA } from './harness';

/** Items per batch request, and messages per baseline `sendBatch`. */
export const BATCH_ITEMS = 100;
/** Partitions of the feedback topic in the benchmarks (the service's and the baseline's). */
export const FEEDBACK_PARTITIONS = 6;

/** The n-th item of the batch workload: the common shapes, varied by n. */
export function batchItem(n: number) {
  return {
    requestId: `bench-req-${n}`,
    experiment: BENCH_EXPERIMENT,
    arm: n % 2 ? 'A' : 'B',
    rating: (n % 5) + 1,
    thumbs: n % 3 ? ('up' as const) : ('down' as const),
    comment: n % 4 ? undefined : 'short comment about the answer',
    scores: { relevance: (n % 10) / 10 },
    source: 'user' as const,
    latencyMs: 800 + (n % 100),
  };
}

/** The event the service would publish for an item, serialized by the contracts lib. */
function serializedEvent(n: number): { key: string; value: string } {
  const it = batchItem(n);
  const feedbackId = uuidv7();
  const now = new Date().toISOString();
  const event = createEvent(
    EVENT_TYPES.feedbackSubmitted,
    {
      ...it,
      feedbackId,
      ratingScale: { min: 1, max: 5 },
      timestamp: now,
      receivedAt: now,
      revision: 1,
      edit: null,
    },
    { source: EVENT_SOURCES.feedback, id: `fb:${feedbackId}:1`, time: now },
  );
  return { key: it.requestId, value: serializeEvent(event) };
}

const baselineKafka = new Kafka({
  brokers: KAFKA.split(','),
  clientId: 'feedback-bench-baseline',
  logLevel: logLevel.NOTHING,
});

/** The baseline's own topic, with the service's partition count. */
export async function createBaselineTopic(topic: string): Promise<void> {
  await ensureTopics(baselineKafka, [{ name: topic, partitions: FEEDBACK_PARTITIONS }]);
}

/**
 * Events/s of kafkajs `sendBatch` of BATCH_ITEMS serialized feedback events (the records the
 * service publishes: same key, value and headers), acks -1, `connections` concurrent senders, to
 * `topic`: a warm-up of `warmupSeconds`, then `seconds` measured.
 */
export async function measureKafkaBaseline(
  topic: string,
  o: { connections: number; seconds: number; warmupSeconds: number },
): Promise<number> {
  const producer = baselineKafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Serialize up front: the baseline measures Kafka alone, the same bytes ours publishes.
  const pool = Array.from({ length: 50 }, (_, b) =>
    Array.from({ length: BATCH_ITEMS }, (_, i) => ({
      ...serializedEvent(b * BATCH_ITEMS + i),
      headers: { ...contextHeaders(newContext()), 'content-type': CLOUDEVENTS_CONTENT_TYPE },
    })),
  );
  const run = async (seconds: number): Promise<number> => {
    let sent = 0;
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: o.connections }, async (_, c) => {
        for (let b = c; Date.now() < deadline; b++) {
          await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: pool[b % pool.length] }] });
          sent += BATCH_ITEMS;
        }
      }),
    );
    return sent / seconds;
  };
  try {
    await run(o.warmupSeconds);
    const host = hostCpu();
    const eventsPerSecond = await run(o.seconds);
    console.log(
      `baseline  ${eventsPerSecond.toFixed(0).padStart(7)} events/s  (kafkajs sendBatch of ${BATCH_ITEMS}, ${o.connections} concurrent senders)${hostBusySince(host)}`,
    );
    return eventsPerSecond;
  } finally {
    await producer.disconnect();
  }
}
