/**
 * Benchmark: POST /v1/feedback/batch with 100 items per request against bare kafkajs `sendBatch` of
 * the same serialized events, in the same run.
 *
 *  - ours: the real service as a process (NestJS on Fastify, per-item zod validation, content hash,
 *    one producer send per request through the micro-batching producer, acks -1, awaited before the
 *    202). Items carry no feedbackId (server-issued UUIDv7), so every item is a new event, and its
 *    revision-1 claim is written to MongoDB after the ack, in groups (see the feedback README,
 *    "Server-issued ids"). Load: autocannon, BENCH_CONNECTIONS concurrent requests.
 *  - baseline: a kafkajs producer in this process sending the same serialized CloudEvents (built by
 *    the contracts lib from the same items) with `sendBatch` of 100 messages, acks -1, with the same
 *    number of concurrent senders, to a topic with the same partition count. The records are the
 *    ones ours publishes: same key, value and headers (content type, correlation id, traceparent).
 *  - bound: bare Fastify plus only the publishing: the same autocannon batches to a route that
 *    sends each item's JSON (smaller than the real event) keyed by requestId through the platform's
 *    BatchingProducer to the same topic, awaits the ack and answers 202. No validation, revision
 *    claim, hashing or event building (support/harness.ts runBareWithKafka). A service that
 *    publishes every item through this producer and awaits the ack does at least this, so
 *    bound/baseline is the ceiling of the ratio on this host.
 *  - claim-bound: the bound route that first writes the smallest revision claim of every item to
 *    MongoDB (grouped across requests, BENCH_CLAIM_WRITERS writes in flight) and then publishes: the ceiling for a
 *    service that must claim before it publishes, measured with both sharing the host.
 *  - claim ceiling: the service must claim (feedbackId, revision) for every item in MongoDB before
 *    publishing (edits and retries are told apart by it; see the README). This measures the
 *    database alone, with nothing else running: unordered insertMany of the smallest claim
 *    documents, CLAIM_GROUP at a time (the most the service's group commit can reach under this
 *    load), 1 and 2 writers, into a fresh collection. A design that claims every item in this
 *    database cannot exceed it.
 *  All report events/s; they are measured in BENCH_ROUNDS (3) rounds in rotating order, and the
 *  ratios use the medians. The ratio is ours/baseline. Goal >= 0.6x.
 *
 * Run: BENCH_ONLY=feedback-batch npm run bench
 * Env: KAFKA_BROKERS (127.0.0.1:9092), MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_PROFILE (dir),
 *      BENCH_CONNECTIONS (8), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3),
 *      BENCH_CLAIM_WRITERS (1) and BENCH_CLAIM_LINGER_MS (0): the claim-bound's writes in flight and
 *      how long a claim group waits for more claims.
 */
import { CLOUDEVENTS_CONTENT_TYPE, TOPICS, topicName } from '@llmops/contracts';
import type { ChildProcess } from 'node:child_process';
import { mongo as driver } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { contextHeaders, newContext } from '@llmops/platform';
import {
  httpBench,
  medianOfRounds,
  MONGO,
  reportRatio,
  type BoundRoute,
  type ClaimDocument,
  reportBounds,
  runBench,
  runId,
  startReadyService,
  startRoleServers,
  stopChild,
} from './support/harness';
import {
  BATCH_ITEMS as ITEMS,
  batchItem as item,
  createBaselineTopic as createTopic,
  FEEDBACK_PARTITIONS as PARTITIONS,
  measureKafkaBaseline,
} from './support/feedback-baseline';
import {
  claimDb,
  dropClaimDb,
  FEEDBACK_BENCH_ENV,
  feedbackBoundEnv,
  issueFeedbackBenchKey,
  publishBenchExperiment,
  smallestClaim,
} from './support/feedback-claims';
import type { IssuedTestKey } from '@llmops/testing';

const GOAL = 0.6;

let seq = 0;
/** The run's key, sent with every request (the bound servers ignore it). */
let key: IssuedTestKey | undefined;
function batchBody(): string {
  const items = Array.from({ length: ITEMS }, () => item(seq++));
  return JSON.stringify({ items });
}

const {
  connections: CONNECTIONS,
  seconds: SECONDS,
  warmupSeconds: WARMUP,
  measure: measureHttp,
} = httpBench({
  defaults: { connections: 8, seconds: 8, warmupSeconds: 2 },
  path: '/v1/feedback/batch',
  body: batchBody,
  perRequest: { count: ITEMS, unit: 'event' },
  timeoutSeconds: 30,
  headers: () => key?.header ?? {},
});

/** The bound server's route: every item published and acknowledged, then 202. */
function boundRoute(): BoundRoute {
  const headers = { ...contextHeaders(newContext()), 'content-type': CLOUDEVENTS_CONTENT_TYPE };
  return {
    path: '/v1/feedback/batch',
    status: 202,
    response: (body) => ({
      accepted: (body.items as { requestId: string }[]).map((i) => i.requestId),
      rejected: [],
    }),
    messages: (body) =>
      (body.items as { requestId: string }[]).map((i) => ({
        key: i.requestId,
        value: JSON.stringify(i),
        headers,
      })),
    claims: (body) => (body.items as { requestId: string }[]).map((i) => smallestClaim(i.requestId)),
  };
}

function measureBaseline(topic: string): Promise<number> {
  return measureKafkaBaseline(topic, { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP });
}

const CLAIM_GROUP = 800;

function claimGroup(seq: { n: number }): ClaimDocument[] {
  return Array.from({ length: CLAIM_GROUP }, () => smallestClaim(`bench-req-${seq.n++}`));
}

/**
 * Claim documents per second the database accepts (best of 1 and 2 writers; the service keeps one
 * write in flight, so its figure is the 1-writer one), into a fresh collection. Each writer builds
 * its next group while the previous insert is in flight, so the document building stays off the
 * measured path as far as one thread allows.
 */
async function measureClaimCeiling(client: driver.MongoClient, dbName: string): Promise<number> {
  const seq = { n: 0 };
  const run = async (writers: number, seconds: number): Promise<number> => {
    const collection = client.db(dbName).collection<ClaimDocument>(`claims_${uuidv7()}`);
    let docs = 0;
    const started = Date.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        let next = claimGroup(seq);
        while (Date.now() < deadline) {
          const inserted = collection.insertMany(next, { ordered: false });
          // Let the driver serialize and send the command first, then build the next group while
          // the database works on this one.
          await new Promise((r) => setImmediate(r));
          next = claimGroup(seq);
          await inserted;
          docs += CLAIM_GROUP;
        }
      }),
    );
    const rate = docs / ((Date.now() - started) / 1000);
    await collection.drop();
    return rate;
  };
  await run(1, WARMUP);
  const results = [await run(1, SECONDS), await run(2, SECONDS)];
  const best = Math.max(...results);
  console.log(
    `claims    ${best.toFixed(0).padStart(7)} docs/s    (insertMany of ${CLAIM_GROUP}: 1 writer ${results[0].toFixed(0)}, 2 writers ${results[1].toFixed(0)})`,
  );
  return best;
}

async function main(): Promise<void> {
  const run = runId();
  const children: ChildProcess[] = [];
  const mongo = new driver.MongoClient(MONGO);
  try {
    key = await issueFeedbackBenchKey(run);
    const ours = await startReadyService(
      'services/feedback/src/main.ts',
      { run, db: 'feedback', env: { ...FEEDBACK_BENCH_ENV, KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) } },
      children,
    );
    await publishBenchExperiment(run, ours.url, key);
    await mongo.connect();
    // The service created its topics when it became ready; the bound publishes to the same one.
    const { bound, 'claim-bound': claimBound } = await startRoleServers(
      'test/bench/feedback-batch.bench.ts',
      ['bound', 'claim-bound'],
      feedbackBoundEnv(run),
      async (url) => {
        const r = await fetch(`${url}/v1/feedback/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: [item(-1)] }),
        });
        return r.status === 202;
      },
      children,
    );
    const baselineTopic = topicName(`${TOPICS.feedback}.baseline`, `${run}.`);
    await createTopic(baselineTopic);
    console.log(
      `feedback batch benchmark: ${ITEMS} items per request, ${CONNECTIONS} concurrent, ${SECONDS} s per measurement`,
    );
    const m = await medianOfRounds({
      baseline: () => measureBaseline(baselineTopic),
      ours: () => measureHttp('ours', ours.url, ours.pid),
      bound: () => measureHttp('bound', bound.url, bound.pid),
      claimBound: () => measureHttp('claim-bound', claimBound.url, claimBound.pid),
      claims: () => measureClaimCeiling(mongo, claimDb(run)),
    });
    reportRatio('POST /v1/feedback/batch events/s, ours/bare kafkajs sendBatch', m.ours, m.baseline, GOAL);
    reportBounds(m);
    console.log(
      `claim ceiling (the database alone, the smallest claim per event, nothing else running) = ${(m.claims / m.baseline).toFixed(2)}x baseline; ours = ${(m.ours / m.claims).toFixed(2)}x claim ceiling`,
    );
  } finally {
    for (const child of children) await stopChild(child);
    await mongo.close();
    await dropClaimDb(run);
  }
}

runBench(main, boundRoute);
