/**
 * Benchmark: single-item POST /v1/feedback of the feedback service against a bare Fastify handler
 * returning the same shape, in the same run, both as separate processes on 127.0.0.1, measured one
 * after the other with the same autocannon load (every request a new piece of feedback: no
 * feedbackId, so the server generates a UUIDv7).
 *
 *  - ours: the real service (NestJS on Fastify, zod validation, content hash, the revision claim in
 *    MongoDB and the event through the micro-batching producer to the real local Kafka, acks -1,
 *    awaited before the 202);
 *  - baseline: `fastify()` with one POST route that answers 202 with a new UUIDv7;
 *  - then ours at 50% of its measured maximum throughput (autocannon overallRate): p50/p99/p99.9.
 *
 * Run: node -r @swc-node/register test/bench/feedback-single.bench.ts
 * Env: KAFKA_BROKERS (127.0.0.1:9092), MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_PROFILE (dir),
 *      BENCH_CONNECTIONS (50), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (2).
 * Goal: ours >= 0.5x baseline requests/s.
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { freePort } from '@llmops/testing';
import {
  measureRequests,
  reportHalfLoadLatency,
  reportRatio,
  runBench,
  startNode,
  startService,
  stopChild,
  waitUntil,
} from './support/harness';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const GOAL = 0.5;

/** Child mode: the bare Fastify baseline (parses the JSON body, answers 202 { feedbackId }). */
async function runBare(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post('/v1/feedback', async (_req, reply) =>
    reply.status(202).send({ feedbackId: uuidv7(), revision: 1, outcome: 'new' }),
  );
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

let seq = 0;
function load(url: string, seconds: number, overallRate?: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/v1/feedback',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const n = seq++;
          return {
            ...req,
            body: JSON.stringify({
              requestId: `bench-req-${n}`,
              experiment: 'bench-feedback',
              arm: n % 2 ? 'A' : 'B',
              rating: (n % 5) + 1,
              thumbs: n % 3 ? 'up' : 'down',
              source: 'user',
              latencyMs: 800 + (n % 100),
            }),
          };
        },
      },
    ],
  });
}

function measure(name: string, url: string): Promise<number> {
  return measureRequests(name, (seconds) => load(url, seconds), WARMUP, SECONDS);
}

async function main(): Promise<void> {
  const run = `bench${Date.now().toString(36)}`;
  const [svcPort, barePort] = [await freePort(), await freePort()];
  const svcUrl = `http://127.0.0.1:${svcPort}`;
  const service = startService('services/feedback/src/main.ts', { port: svcPort, run, db: 'feedback' });
  const bare = startNode(['test/bench/feedback-single.bench.ts'], {
    BENCH_ROLE: 'bare',
    PORT: String(barePort),
  });
  try {
    await waitUntil(async () => (await fetch(`${svcUrl}/health/ready`)).ok, 'feedback service');
    await waitUntil(
      async () =>
        (await fetch(`http://127.0.0.1:${barePort}/v1/feedback`, { method: 'POST' })).status === 202,
      'bare fastify',
    );
    console.log(`feedback single-item benchmark: ${CONNECTIONS} connections, ${SECONDS} s per measurement`);
    const baseline = await measure('baseline', `http://127.0.0.1:${barePort}`);
    const ours = await measure('ours', svcUrl);
    reportRatio(ours, baseline, GOAL);
    await reportHalfLoadLatency(ours, (rate) => load(svcUrl, SECONDS, rate));
  } finally {
    await stopChild(bare);
    await stopChild(service);
  }
}

runBench(main, runBare);
