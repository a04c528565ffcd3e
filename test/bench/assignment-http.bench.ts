/**
 * Benchmark: POST /v1/assign of the assignment service against a bare Fastify handler returning
 * the same JSON, in the same run, both as separate processes on 127.0.0.1, measured one after
 * the other with the same autocannon load (each request a different user id).
 *
 *  - ours: the real service (NestJS on Fastify, zod validation, in-memory experiment, md5
 *    bucketing, and an exposure per request through the micro-batching producer to the real
 *    local Kafka, awaited before the response: every user is in the experiment);
 *  - baseline: `fastify()` with one POST route that returns the same response object.
 *  - bound: bare Fastify plus only the exposure: the route sends one message of about an
 *    exposure's size (one header instead of three, a counter for the id) keyed
 *    like an exposure through the platform's BatchingProducer to the same topic and awaits the ack
 *    (support/harness.ts runBareWithKafka). A service that awaits the ack through this producer
 *    cannot beat it, so bound/baseline is the ceiling of the ratio on this host;
 *  - nest-bound: the same route as the smallest NestJS application (runNestWithKafka): the ceiling
 *    for a service whose route goes through Nest's router;
 *  - and, for the breakdown only, ours with the experiment paused (control served, no exposure,
 *    no Kafka): the cost of the HTTP/NestJS path alone.
 *
 * Every request to ours sends an API key with the `assign` and `experiments:*` scopes (issued to
 * the run's keys topic, as the identity service would), so the measurement includes authentication
 * and the per-key rate limit (set far above what the run can reach).
 *
 * What authentication costs: a second process of the same service with `AUTH_ENABLED=false` (for
 * this benchmark only; same database, topics and experiment), measured in the same rounds as
 * `ours-no-auth`. Reported: ours/ours-no-auth requests/s (goal >= 0.95x: auth costs at most 5%),
 * and the p99 latency of each at the same offered rate, 50% of ours-no-auth's maximum (autocannon
 * overallRate; latencies from the client's timer, not autocannon's whole milliseconds), in
 * BENCH_ROUNDS alternating pairs: the median of ours minus ours-no-auth (goal <= 0.2 ms).
 * BENCH_AUTH_ONLY=1 measures only these two, in the time the full run spends on five servers, and
 * also reports the difference of their CPU time per request (no goal): on a saturated host, where
 * throughput and latency swing with the other processes, the steadier figure.
 *
 * Run: BENCH_ONLY=assignment-http npm run bench
 * Baseline, ours and bound are measured in BENCH_ROUNDS interleaved rounds; ratios use the medians.
 * Env: KAFKA_BROKERS (127.0.0.1:9092), MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_PROFILE (dir),
 *      BENCH_CONNECTIONS (100), BENCH_SECONDS (6), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3),
 *      BENCH_AUTH_ONLY (unset).
 * Goals: ours >= 0.75x baseline requests/s; auth on/off >= 0.95x; p99 at 50% load, on - off <= 0.2 ms.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  TOPICS,
  topicName,
  trustedEvent,
} from '@llmops/contracts';
import {
  type BoundRoute,
  KAFKA,
  httpBench,
  listen,
  measureAgainstBounds,
  median,
  medianOfRounds,
  quantile,
  reportRatio,
  runBench,
  runId,
  type Server,
  startReadyService,
  startRoleServers,
  stopChild,
  waitUntil,
} from './support/harness';
import { reportResult } from './support/result';

const GOAL = 0.75;
/** Auth may cost at most 5% of the throughput... */
const AUTH_THROUGHPUT_GOAL = 0.95;
/** ...and at most 0.2 ms of p99 latency at 50% load. */
const AUTH_P99_GOAL_MS = 0.2;
const EXPERIMENT = 'bench-http';
/** BENCH_AUTH_ONLY=1: only ours and ours-no-auth (no baseline, bounds or breakdown). */
const AUTH_ONLY = process.env.BENCH_AUTH_ONLY === '1';

/**
 * The route of the baseline (the same JSON, nothing else) and of the bound servers (the same JSON
 * after an awaited exposure-sized message).
 */
function boundRoute(): BoundRoute {
  const response = JSON.parse(process.env.BENCH_JSON ?? '{}') as Record<string, unknown>;
  // An exposure event of the same size; only the user id and the event id change per request.
  const template = process.env.BENCH_EVENT ?? '{}';
  let n = 0;
  return {
    path: '/v1/assign',
    status: 200,
    response: () => response,
    messages: (body) => [
      {
        key: `${String(body.experiment)}:${String(body.userId)}`,
        value: template
          .replace('"userId":""', `"userId":${JSON.stringify(body.userId)}`)
          .replace('"id":""', `"id":"${n++}"`),
        headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE },
      },
    ],
  };
}

interface AssignResponse {
  experiment: string;
  arm: string;
  prompt: { name: string; hash: string };
  phase: number;
}

/** An exposure event like the service's, with empty `id` and `userId` for the bound to fill in. */
function exposureTemplate(r: AssignResponse): string {
  const time = new Date().toISOString();
  return JSON.stringify(
    trustedEvent(
      EVENT_TYPES.exposure,
      {
        experiment: r.experiment,
        phase: r.phase,
        arm: r.arm,
        userId: '',
        prompt: r.prompt,
        hashVersion: 1,
        reason: 'hash',
        assignedAt: time,
      },
      { source: EVENT_SOURCES.assignment, id: '', time },
    ),
  );
}

let users = 0;
let key: IssuedTestKey | undefined;
const { connections, seconds, measure, latencies } = httpBench({
  defaults: { connections: 100, seconds: 6, warmupSeconds: 2 },
  path: '/v1/assign',
  body: () => JSON.stringify({ experiment: EXPERIMENT, userId: `bench-user-${users++}` }),
  headers: () => key?.header ?? {},
});

/**
 * p99 of ours and ours-no-auth at the same offered rate, in `rounds` pairs (the order alternates),
 * printed per run; returns the medians.
 */
async function p99AtRate(
  servers: Record<'ours' | 'ours-no-auth', Server>,
  rate: number,
  rounds: number,
): Promise<Record<'ours' | 'ours-no-auth', number>> {
  const p99s: Record<'ours' | 'ours-no-auth', number[]> = { ours: [], 'ours-no-auth': [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['ours', 'ours-no-auth'] as const) : (['ours-no-auth', 'ours'] as const);
    for (const name of order) {
      const { result, sortedMs } = await latencies(servers[name].url, seconds, rate);
      const p99 = quantile(sortedMs, 0.99);
      p99s[name].push(p99);
      console.log(
        `${name.padEnd(12)} at ${rate} req/s offered (${result.requests.average.toFixed(0)} served): ` +
          `p50 ${quantile(sortedMs, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, p99.9 ${quantile(sortedMs, 0.999).toFixed(2)} ms ` +
          `(${result.non2xx + result.errors + result.timeouts} non-2xx/errors)`,
      );
    }
  }
  return { ours: median(p99s.ours), 'ours-no-auth': median(p99s['ours-no-auth']) };
}

/**
 * The two auth results: requests/s with auth over without (measured in the same rounds), and the
 * p99 difference at 50% of the maximum without auth.
 */
async function reportAuthCost(
  servers: Record<'ours' | 'ours-no-auth', Server>,
  withAuth: number,
  withoutAuth: number,
): Promise<void> {
  reportRatio('POST /v1/assign req/s, auth on/auth off', withAuth, withoutAuth, AUTH_THROUGHPUT_GOAL);
  const rate = Math.max(1, Math.round(withoutAuth * 0.5));
  const p99 = await p99AtRate(servers, rate, Number(process.env.BENCH_ROUNDS ?? 3));
  reportResult({
    measure: `p99 at 50% load (${rate} req/s), auth on - auth off`,
    value: p99.ours - p99['ours-no-auth'],
    unit: 'ms',
    goal: { op: '<=', value: AUTH_P99_GOAL_MS },
  });
}

async function main(): Promise<void> {
  const run = runId();
  // Prompt refs are resolved at creation only; a stub registry serves that one lookup.
  const registry = Fastify();
  registry.get<{ Params: { name: string; ref: string } }>('/v1/prompts/:name/versions/:ref', async (req) => ({
    name: req.params.name,
    hash: createHash('sha256').update(req.params.ref).digest('hex'),
    version: 1,
  }));
  const children: ChildProcess[] = [];
  try {
    const registryUrl = await listen(registry);
    const issued = await issueTestKey(
      { kafkaBrokers: KAFKA, topicPrefix: `${run}.` },
      {
        name: 'assignment benchmark',
        scopes: ['assign', 'experiments:read', 'experiments:write', 'prompts:read'],
      },
    );
    key = issued;
    const ours = await startReadyService(
      'services/assignment/src/main.ts',
      {
        run,
        db: 'assignment',
        env: {
          REGISTRY_URL: registryUrl,
          LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
          RATE_LIMIT_ASSIGN: '10000000',
        },
      },
      children,
    );
    const post = (url: string, p: string, body?: unknown) =>
      fetch(`${url}${p}`, {
        method: 'POST',
        headers: {
          ...issued.header,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await post(ours.url, '/v1/experiments', {
      key: EXPERIMENT,
      arms: [
        { name: 'A', weight: 0.5, prompt: { name: 'summarizer', ref: '1' } },
        { name: 'B', weight: 0.5, prompt: { name: 'summarizer', ref: '2' } },
      ],
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    await post(ours.url, `/v1/experiments/${EXPERIMENT}/start`);
    const sample = await post(ours.url, '/v1/assign', { experiment: EXPERIMENT, userId: 'sample' });
    const json = await sample.text();
    if (sample.status !== 200) throw new Error(`assign: ${sample.status} ${json}`);

    // The same service with authentication off: it learns the experiment from the compacted topic.
    const noAuth = await startReadyService(
      'services/assignment/src/main.ts',
      { run, db: 'assignment', env: { REGISTRY_URL: registryUrl, AUTH_ENABLED: 'false' } },
      children,
    );
    await waitUntil(
      async () =>
        (await post(noAuth.url, '/v1/assign', { experiment: EXPERIMENT, userId: 'sample' })).status === 200,
      'ours-no-auth serving the experiment',
    );

    console.log(
      `assignment HTTP benchmark: ${connections} connections, ${seconds} s per measurement, response ${json}`,
    );
    const auth = { ours, 'ours-no-auth': noAuth };
    if (AUTH_ONLY) {
      const cpu = { ours: [] as number[], 'ours-no-auth': [] as number[] };
      const m = await medianOfRounds({
        'ours-no-auth': () => measure('ours-no-auth', noAuth.url, noAuth.pid, cpu['ours-no-auth']),
        ours: () => measure('ours', ours.url, ours.pid, cpu.ours),
      });
      // The warm-up round's figures are the first of each; the rounds' medians, like the rates.
      const cpuOf = (xs: number[]) => median(xs.slice(1));
      reportResult({
        measure: 'server CPU per request, auth on - auth off',
        value: cpuOf(cpu.ours) - cpuOf(cpu['ours-no-auth']),
        unit: 'µs',
      });
      await reportAuthCost(auth, m.ours, m['ours-no-auth']);
      return;
    }

    const {
      bare: baseline,
      bound,
      'nest-bound': nestBound,
    } = await startRoleServers(
      'test/bench/assignment-http.bench.ts',
      ['bare', 'bound', 'nest-bound'],
      {
        BENCH_JSON: json,
        BENCH_TOPIC: topicName(TOPICS.exposures, `${run}.`),
        BENCH_EVENT: exposureTemplate(JSON.parse(json) as AssignResponse),
        KAFKA_BROKERS: KAFKA,
      },
      async (url) => {
        const r = await fetch(`${url}/v1/assign`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ experiment: EXPERIMENT, userId: 'probe' }),
        });
        return r.status === 200;
      },
      children,
    );
    const m = await measureAgainstBounds(
      'POST /v1/assign req/s, ours/bare Fastify',
      measure,
      { baseline, ours, bound, nestBound, also: { 'ours-no-auth': noAuth } },
      GOAL,
    );
    await reportAuthCost(auth, m.ours, m.also['ours-no-auth']);

    await post(ours.url, `/v1/experiments/${EXPERIMENT}/pause`);
    const noExposure = await measure('ours, paused (no exposure, no Kafka)', ours.url, ours.pid);
    console.log(
      `breakdown: HTTP/NestJS path alone = ${(noExposure / m.baseline).toFixed(2)}x baseline; the exposure ack costs the rest`,
    );
  } finally {
    for (const child of children) await stopChild(child);
    await registry.close();
  }
}

runBench(main, boundRoute);
