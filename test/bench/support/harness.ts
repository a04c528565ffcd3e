/**
 * What the HTTP benchmarks share: starting a service (or a bare baseline) as a child process,
 * waiting for it, stopping it, and one autocannon measurement with the same printout everywhere.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type autocannon from 'autocannon';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import pino from 'pino';
import { BatchingProducer, createKafka, type OutgoingMessage } from '@llmops/platform';

export const ROOT = path.resolve(__dirname, '../../..');
export const KAFKA = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const MONGO = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';

/**
 * `node -r @swc-node/register <args>` from the repo root with only PATH, HOME and `env`.
 * `profile`: when BENCH_PROFILE=<dir> is set, the child writes a V8 CPU profile there on exit
 * (open it in Chrome DevTools); used for the service under test, not for baselines.
 */
export function startNode(args: string[], env: Record<string, string>, profile = false): ChildProcess {
  const dir = process.env.BENCH_PROFILE;
  const prof = profile && dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  return spawn(process.execPath, [...prof, '-r', '@swc-node/register', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * A service under test (profiled with BENCH_PROFILE) on the local Kafka and MongoDB, with its own
 * database `${run}_${db}` and topic prefix `${run}.` so runs never see each other's data.
 */
export function startService(
  entry: string,
  opts: { port: number; run: string; db: string; env?: Record<string, string> },
): ChildProcess {
  return startNode(
    [entry],
    {
      PORT: String(opts.port),
      HOST: '127.0.0.1',
      KAFKA_BROKERS: KAFKA,
      MONGODB_URI: MONGO,
      MONGODB_DB: `${opts.run}_${opts.db}`,
      KAFKA_TOPIC_PREFIX: `${opts.run}.`,
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    true,
  );
}

/** SIGTERM, then wait for the exit (the services shut down gracefully). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Polls `check` every 200 ms; a throw counts as not ready yet. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/** A warm-up run, then the measured run; prints req/s and latency, fails on any non-2xx. */
export async function measureRequests(
  name: string,
  load: (seconds: number) => Promise<autocannon.Result>,
  warmupSeconds: number,
  seconds: number,
): Promise<number> {
  await load(warmupSeconds);
  const r = await load(seconds);
  const bad = r.non2xx + r.errors + r.timeouts;
  console.log(
    `${name.padEnd(9)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  (${r.requests.total} requests, ${bad} non-2xx/errors)`,
  );
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests`);
  return r.requests.average;
}

/**
 * Measures every entry once per round, in the listed order, for `rounds` rounds (BENCH_ROUNDS,
 * default 3), and returns each entry's median. On a shared 2-core host one measurement swings by
 * ±20%; interleaved rounds keep a slow minute from landing on one side of a ratio only.
 */
export async function medianOfRounds<K extends string>(
  entries: Record<K, () => Promise<number>>,
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
): Promise<Record<K, number>> {
  const names = Object.keys(entries) as K[];
  const samples = new Map<K, number[]>(names.map((n) => [n, []]));
  for (let r = 1; r <= rounds; r++) {
    console.log(`round ${r} of ${rounds}`);
    for (const n of names) samples.get(n)?.push(await entries[n]());
  }
  const medians = {} as Record<K, number>;
  for (const n of names) {
    const sorted = [...(samples.get(n) ?? [])].sort((a, b) => a - b);
    medians[n] = sorted[Math.floor(sorted.length / 2)];
  }
  console.log(
    `medians of ${rounds} rounds: ${names.map((n) => `${n} ${medians[n].toFixed(0)}/s`).join(', ')}`,
  );
  return medians;
}

/** Prints the bound lines: each bound against the baseline, and ours against each bound. */
export function reportBounds(m: { baseline: number; ours: number; bound: number; nestBound?: number }): void {
  console.log(
    `bound (bare Fastify + the awaited Kafka ack, nothing else) = ${(m.bound / m.baseline).toFixed(2)}x baseline: the ceiling of any implementation here; ours = ${(m.ours / m.bound).toFixed(2)}x bound`,
  );
  if (m.nestBound !== undefined) {
    console.log(
      `nest-bound (the same route as the smallest NestJS app) = ${(m.nestBound / m.baseline).toFixed(2)}x baseline: the ceiling of a NestJS service here; ours = ${(m.ours / m.nestBound).toFixed(2)}x nest-bound`,
    );
  }
}

/** Prints ours/baseline against the goal; returns the ratio. */
export function reportRatio(ours: number, baseline: number, goal: number): number {
  const ratio = ours / baseline;
  console.log(
    `ratio ours/baseline = ${ratio.toFixed(2)}x (goal >= ${goal}x): ${ratio >= goal ? 'MET' : 'NOT MET'}`,
  );
  return ratio;
}

/**
 * Latency at 50% of the measured maximum: `load` at a fixed offered rate (autocannon overallRate),
 * printed as p50/p99/p99.9/max with the served rate and any failures.
 */
export async function reportHalfLoadLatency(
  maxPerSecond: number,
  load: (rate: number) => Promise<autocannon.Result>,
): Promise<void> {
  const rate = Math.max(1, Math.round(maxPerSecond * 0.5));
  const r = await load(rate);
  console.log(
    `ours at 50% of max (${rate} req/s offered, ${r.requests.average.toFixed(0)} served): ` +
      `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, p99.9 ${r.latency.p99_9} ms, max ${r.latency.max} ms ` +
      `(${r.non2xx + r.errors + r.timeouts} non-2xx/errors)`,
  );
}

/**
 * Runs `main` (exit 0) or, with BENCH_ROLE=bare / bound / nest-bound, the baseline server `bare`
 * or the bound servers (runBareWithKafka / runNestWithKafka) of the route `bound`.
 */
export function runBench(
  main: () => Promise<void>,
  bare?: () => Promise<void>,
  bound?: BoundRoute | (() => BoundRoute),
): void {
  const fail = (err: unknown): void => {
    console.error(err);
    process.exit(1);
  };
  const route = typeof bound === 'function' ? bound : () => bound;
  const role = process.env.BENCH_ROLE;
  if (role === 'bare' && bare) bare().catch(fail);
  else if (role === 'bound' && bound) runBareWithKafka(route() as BoundRoute).catch(fail);
  else if (role === 'nest-bound' && bound) runNestWithKafka(route() as BoundRoute).catch(fail);
  else main().then(() => process.exit(0), fail);
}

export interface BoundRoute {
  path: string;
  status: number;
  response: (body: Record<string, unknown>) => unknown;
  messages: (body: Record<string, unknown>) => OutgoingMessage[];
}

/** The platform's BatchingProducer with the services' defaults (batch 500, linger 5 ms), connected. */
async function boundProducer(): Promise<{ producer: BatchingProducer; topic: string }> {
  const logger = pino({ level: 'warn' });
  const kafka = createKafka({ brokers: KAFKA.split(','), clientId: 'bench-bound', logger });
  const producer = new BatchingProducer(kafka, { logger });
  await producer.connect();
  return { producer, topic: process.env.BENCH_TOPIC ?? '' };
}

/**
 * Child mode for the "bound" line of the HTTP benchmarks: bare Fastify plus exactly the durability
 * the issue demands and nothing else. One POST route that parses the body (fastify's JSON parser),
 * sends `messages(body)` through the platform's BatchingProducer to the real topic (acks -1), awaits
 * the acknowledgement and answers `status` with `response`. No NestJS, no validation, no metrics,
 * no context, no event building beyond `messages`. Whatever the service does, it cannot be faster
 * than this; so bound/baseline is the best ratio any implementation with an awaited ack can reach
 * on this host. Env: PORT, KAFKA_BROKERS, BENCH_TOPIC.
 */
export async function runBareWithKafka(route: BoundRoute): Promise<void> {
  const { producer, topic } = await boundProducer();
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  app.post(route.path, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    await producer.send(topic, route.messages(body));
    return reply.status(route.status).send(route.response(body));
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => producer.close())
      .then(() => process.exit(0));
  });
}

/**
 * Child mode for the "NestJS bound": the same route as runBareWithKafka, but as the smallest NestJS
 * application on Nest's FastifyAdapter (one module, one controller, no pipes, guards, filters,
 * hooks or logging). The services are NestJS applications, so none of them can beat this.
 */
export async function runNestWithKafka(route: BoundRoute): Promise<void> {
  const { producer, topic } = await boundProducer();

  @Controller()
  class BoundController {
    @Post(route.path)
    @HttpCode(route.status)
    async handle(@Body() body: Record<string, unknown> | undefined): Promise<unknown> {
      const b = body ?? {};
      await producer.send(topic, route.messages(b));
      return route.response(b);
    }
  }

  @Module({ controllers: [BoundController] })
  class BoundModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    BoundModule,
    new FastifyAdapter({ logger: false, bodyLimit: 10 * 1024 * 1024, skipMiddie: true }),
    { logger: false },
  );
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => producer.close())
      .then(() => process.exit(0));
  });
}
