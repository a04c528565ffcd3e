/**
 * Benchmark: POST /v1/feedback/batch with 100 items per request against bare kafkajs `sendBatch` of
 * the same serialized events, in the same run.
 *
 *  - ours: the real service as a process (NestJS on Fastify, per-item zod validation, content hash,
 *    one grouped revision claim in MongoDB, one producer send per request through the micro-batching
 *    producer, acks -1, awaited before the 202). Items carry no feedbackId (server UUIDv7), so every
 *    item is a new event. Load: autocannon, BENCH_CONNECTIONS concurrent requests.
 *  - baseline: a kafkajs producer in this process sending the same serialized CloudEvents (built by
 *    the contracts lib from the same items) with `sendBatch` of 100 messages, acks -1, with the same
 *    number of concurrent senders, to a topic with the same partition count. The records are the
 *    ones ours publishes: same key, value and headers (content type, correlation id, traceparent).
 *  Both report events/s; the ratio is ours/baseline. Goal >= 0.6x.
 *
 * Run: node -r @swc-node/register test/bench/feedback-batch.bench.ts
 * Env: KAFKA_BROKERS (127.0.0.1:9092), MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_PROFILE (dir),
 *      BENCH_CONNECTIONS (8), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2).
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { v7 as uuidv7 } from 'uuid';
import { contextHeaders } from '@llmops/platform';
import { freePort } from '@llmops/testing';
import { KAFKA, reportRatio, runBench, startService, stopChild, waitUntil } from './support/harness';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const ITEMS = 100;
const PARTITIONS = 6;
const GOAL = 0.6;

function item(n: number) {
  return {
    requestId: `bench-req-${n}`,
    experiment: 'bench-feedback',
    arm: n % 2 ? 'A' : 'B',
    rating: (n % 5) + 1,
    thumbs: n % 3 ? ('up' as const) : ('down' as const),
    comment: n % 4 ? undefined : 'short comment about the answer',
    scores: { relevance: (n % 10) / 10 },
    source: 'user' as const,
    latencyMs: 800 + (n % 100),
  };
}

let seq = 0;
function batchBody(): string {
  const items = Array.from({ length: ITEMS }, () => item(seq++));
  return JSON.stringify({ items });
}

/** The event the service would publish for an item, serialized by the contracts lib. */
function serializedEvent(n: number): { key: string; value: string } {
  const it = item(n);
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

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/feedback/batch',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: batchBody() }),
      },
    ],
  });
}

async function measureOurs(url: string): Promise<number> {
  await load(url, WARMUP);
  const r = await load(url, SECONDS);
  const bad = r.non2xx + r.errors + r.timeouts;
  const eventsPerSecond = (r['2xx'] * ITEMS) / SECONDS;
  console.log(
    `ours      ${eventsPerSecond.toFixed(0).padStart(7)} events/s  (${r.requests.average.toFixed(0)} batches/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${bad} non-2xx/errors)`,
  );
  if (bad > 0) throw new Error(`ours: ${bad} failed requests`);
  return eventsPerSecond;
}

async function measureBaseline(topic: string): Promise<number> {
  const kafka = new Kafka({
    brokers: KAFKA.split(','),
    clientId: 'feedback-bench-baseline',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: -1 }],
  });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Serialize up front: the baseline measures Kafka alone, the same bytes ours publishes.
  const pool = Array.from({ length: 50 }, (_, b) =>
    Array.from({ length: ITEMS }, (_, i) => ({
      ...serializedEvent(b * ITEMS + i),
      headers: { ...contextHeaders(), 'content-type': CLOUDEVENTS_CONTENT_TYPE },
    })),
  );
  const run = async (seconds: number): Promise<number> => {
    let sent = 0;
    const deadline = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        for (let b = c; Date.now() < deadline; b++) {
          await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: pool[b % pool.length] }] });
          sent += ITEMS;
        }
      }),
    );
    return sent / seconds;
  };
  try {
    await run(WARMUP);
    const eventsPerSecond = await run(SECONDS);
    console.log(
      `baseline  ${eventsPerSecond.toFixed(0).padStart(7)} events/s  (kafkajs sendBatch of ${ITEMS}, ${CONNECTIONS} concurrent senders)`,
    );
    return eventsPerSecond;
  } finally {
    await producer.disconnect();
  }
}

async function main(): Promise<void> {
  const run = `bench${Date.now().toString(36)}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = startService('services/feedback/src/main.ts', {
    port,
    run,
    db: 'feedback',
    env: { KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) },
  });
  try {
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).ok, 'feedback service');
    console.log(
      `feedback batch benchmark: ${ITEMS} items per request, ${CONNECTIONS} concurrent, ${SECONDS} s per measurement`,
    );
    const baseline = await measureBaseline(topicName(`${TOPICS.feedback}.baseline`, `${run}.`));
    const ours = await measureOurs(url);
    reportRatio(ours, baseline, GOAL);
  } finally {
    await stopChild(service);
  }
}

runBench(main);
