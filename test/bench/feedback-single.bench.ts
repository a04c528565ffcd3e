/**
 * Benchmark: single-item POST /v1/feedback of the feedback service against a bare Fastify handler
 * returning the same shape, in the same run, both as separate processes on 127.0.0.1, measured one
 * after the other with the same autocannon load (every request a new piece of feedback: no
 * feedbackId, so the server generates a UUIDv7).
 *
 *  - ours: the real service (NestJS on Fastify, zod validation, content hash, the event through the
 *    micro-batching producer to the real local Kafka, acks -1, awaited before the 202; the
 *    server-issued id's revision-1 claim is written to MongoDB after the ack, in groups);
 *  - baseline: `fastify()` with one POST route that answers 202 with a new UUIDv7;
 *  - bound: bare Fastify plus only the publishing: the body's JSON (smaller than the real event)
 *    keyed by requestId through the platform's BatchingProducer to the same topic, ack awaited,
 *    then 202 (support/harness.ts runBareWithKafka); nest-bound: the same route as the smallest
 *    NestJS application. No validation, revision claim, hashing or event building: ceilings, not
 *    targets (the revision claim in MongoDB is not in them);
 *  - claim-bound: the bound route that first writes the smallest revision claim of the item to
 *    MongoDB (grouped across requests like the service, BENCH_CLAIM_WRITERS writes in flight) and then publishes:
 *    the ceiling for a service that must claim before it publishes (see the feedback README);
 *  - then ours at 50% of its measured maximum throughput (autocannon overallRate): p50/p99/p99.9.
 * Baseline, ours and the bounds are measured in BENCH_ROUNDS interleaved rounds; ratios use medians.
 *
 * Run: BENCH_ONLY=feedback-single npm run bench
 * Env: KAFKA_BROKERS (127.0.0.1:9092), MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_PROFILE (dir),
 *      BENCH_CONNECTIONS (50), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3),
 *      BENCH_CLAIM_WRITERS (1) and BENCH_CLAIM_LINGER_MS (0): the claim-bound's writes in flight and
 *      how long a claim group waits for more claims.
 * Goal: ours >= 0.5x baseline requests/s.
 */
import type { ChildProcess } from 'node:child_process';
import { CLOUDEVENTS_CONTENT_TYPE, HEADER_CONTENT_TYPE } from '@llmops/contracts';
import { v7 as uuidv7 } from 'uuid';
import {
  type BoundRoute,
  httpBench,
  measureAgainstBounds,
  reportHalfLoadLatency,
  runBench,
  runId,
  startReadyService,
  startRoleServers,
  stopChild,
} from './support/harness';
import {
  dropClaimDb,
  FEEDBACK_BENCH_ENV,
  feedbackBoundEnv,
  issueFeedbackBenchKey,
  publishBenchExperiment,
  singleFeedbackItem,
  smallestClaim,
} from './support/feedback-claims';
import type { IssuedTestKey } from '@llmops/testing';

const GOAL = 0.5;

/**
 * The route of the baseline (parses the JSON body, answers 202 with a new UUIDv7) and of the bound
 * servers (the body published and acknowledged first).
 */
const boundRoute: BoundRoute = {
  path: '/v1/feedback',
  status: 202,
  response: () => ({ feedbackId: uuidv7(), revision: 1, outcome: 'new' }),
  messages: (body) => [
    {
      key: String(body.requestId),
      value: JSON.stringify(body),
      headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE },
    },
  ],
  claims: (body) => [smallestClaim(String(body.requestId))],
};

let seq = 0;
/** The run's key, sent with every request (the baseline and bound servers ignore it). */
let key: IssuedTestKey | undefined;
function body(): string {
  return JSON.stringify(singleFeedbackItem(seq++));
}

const { connections, seconds, load, measure } = httpBench({
  defaults: { connections: 50, seconds: 8, warmupSeconds: 2 },
  path: '/v1/feedback',
  body,
  headers: () => key?.header ?? {},
});

async function main(): Promise<void> {
  const run = runId();
  const children: ChildProcess[] = [];
  try {
    key = await issueFeedbackBenchKey(run);
    const ours = await startReadyService(
      'services/feedback/src/main.ts',
      { run, db: 'feedback', env: FEEDBACK_BENCH_ENV },
      children,
    );
    await publishBenchExperiment(run, ours.url, key);
    // The service created its topics when it became ready; the bounds publish to the same one.
    const {
      bare: baseline,
      bound,
      'nest-bound': nestBound,
      'claim-bound': claimBound,
    } = await startRoleServers(
      'test/bench/feedback-single.bench.ts',
      ['bare', 'bound', 'nest-bound', 'claim-bound'],
      feedbackBoundEnv(run),
      async (url) =>
        (
          await fetch(`${url}/v1/feedback`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ requestId: 'probe' }),
          })
        ).status === 202,
      children,
    );
    console.log(`feedback single-item benchmark: ${connections} connections, ${seconds} s per measurement`);
    const m = await measureAgainstBounds(
      'POST /v1/feedback req/s, ours/bare Fastify',
      measure,
      { baseline, ours, bound, nestBound, claimBound },
      GOAL,
    );
    await reportHalfLoadLatency(m.ours, (rate) => load(ours.url, seconds, rate));
  } finally {
    for (const child of children) await stopChild(child);
    await dropClaimDb(run);
  }
}

runBench(main, boundRoute);
