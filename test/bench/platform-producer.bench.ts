/**
 * Benchmark: the micro-batching producer against bare kafkajs `sendBatch` of the same events,
 * in the same run, against the real broker (acks: -1 on both paths).
 *
 *  - baseline: one kafkajs producer, `sendBatch` of the pre-built events in chunks of the same
 *    max batch size, one chunk after another (the best a single caller can do);
 *  - ours: `BatchingProducer.send(topic, [oneMessage])` from many concurrent callers, one
 *    message per call, the way HTTP handlers use it; each caller awaits its ack, then sends again.
 *    On the services' transport (PlatformaticTransport, @platformatic/kafka) unless
 *    BENCH_TRANSPORT=kafkajs.
 *
 * Run: BENCH_ONLY=platform-producer npm run bench
 * Env: KAFKA_BROKERS (127.0.0.1:9092), BENCH_EVENTS (200000), BENCH_CALLERS (2000),
 *      BENCH_BATCH (500), BENCH_ROUNDS (3), BENCH_VALUE_BYTES (300), BENCH_TRANSPORT (platformatic).
 * Goal: ours >= 0.9x baseline events/s (median of the rounds).
 */
import { randomUUID } from 'node:crypto';
import { BatchingProducer, createKafka, ensureTopics, PlatformaticTransport } from '@llmops/platform';
import pino from 'pino';
import { KAFKA, median, reportRatio, runBench, runId, setting } from './support/harness';

const brokers = KAFKA.split(',');
const EVENTS = setting('BENCH_EVENTS', 200_000);
const CALLERS = setting('BENCH_CALLERS', 2_000);
const BATCH = setting('BENCH_BATCH', 500);
const ROUNDS = setting('BENCH_ROUNDS', 3);
const VALUE_BYTES = setting('BENCH_VALUE_BYTES', 300);
const GOAL = 0.9;

interface BenchMessage {
  key: string;
  value: string;
}

function buildEvents(n: number): BenchMessage[] {
  const events: BenchMessage[] = [];
  for (let i = 0; i < n; i++) {
    const head = JSON.stringify({
      id: randomUUID(),
      type: 'llmops.feedback.submitted.v1',
      user: `u${i % 5_000}`,
    });
    const value =
      head.length < VALUE_BYTES
        ? `${head.slice(0, -1)},"pad":"${'x'.repeat(VALUE_BYTES - head.length - 9)}"}`
        : head;
    events.push({ key: `u${i % 5_000}`, value });
  }
  return events;
}

async function bare(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  events: BenchMessage[],
): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) {
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: events.slice(i, i + BATCH) }] });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return events.length / seconds;
}

async function batching(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  events: BenchMessage[],
): Promise<number> {
  const transport =
    process.env.BENCH_TRANSPORT === 'kafkajs'
      ? kafka
      : new PlatformaticTransport({ brokers, clientId: 'bench-batching', sendTimeoutMs: 10_000 });
  const producer = new BatchingProducer(transport, { maxBatchMessages: BATCH });
  await producer.connect();
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < events.length) {
      const e = events[next++];
      await producer.send(topic, [e]);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.close();
  return events.length / seconds;
}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const kafka = createKafka({ brokers, clientId: 'bench-producer', logger });
  const run = runId();
  const topics = { bare: `${run}.bare`, ours: `${run}.batching` };
  await ensureTopics(kafka, [
    { name: topics.bare, partitions: 6, retentionMs: 10 * 60_000 },
    { name: topics.ours, partitions: 6, retentionMs: 10 * 60_000 },
  ]);
  const events = buildEvents(EVENTS);
  console.log(
    `platform-producer bench: ${EVENTS} events of ~${events[0].value.length} B, batch ${BATCH}, ${CALLERS} concurrent callers, ${ROUNDS} rounds, brokers ${brokers.join(',')}`,
  );

  // Warm-up: connections, metadata, JIT.
  await bare(kafka, topics.bare, events.slice(0, 20_000));
  await batching(kafka, topics.ours, events.slice(0, 20_000));

  const results = { bare: [] as number[], ours: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so neither path always runs on a warmer broker.
    if (r % 2 === 0) {
      results.bare.push(await bare(kafka, topics.bare, events));
      results.ours.push(await batching(kafka, topics.ours, events));
    } else {
      results.ours.push(await batching(kafka, topics.ours, events));
      results.bare.push(await bare(kafka, topics.bare, events));
    }
    console.log(
      `  round ${r + 1}: bare sendBatch ${results.bare[r].toFixed(0)} ev/s, BatchingProducer ${results.ours[r].toFixed(0)} ev/s`,
    );
  }
  const bareMedian = median(results.bare);
  const oursMedian = median(results.ours);
  console.log(`bare kafkajs sendBatch : ${bareMedian.toFixed(0)} events/s (median)`);
  console.log(`BatchingProducer       : ${oursMedian.toFixed(0)} events/s (median)`);
  const transport = process.env.BENCH_TRANSPORT === 'kafkajs' ? 'kafkajs' : 'platformatic';
  reportRatio(`producer events/s (${transport}), ours/bare kafkajs sendBatch`, oursMedian, bareMedian, GOAL);

  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topics.bare, topics.ours] }).catch(() => undefined);
  await admin.disconnect();
}

runBench(main);
