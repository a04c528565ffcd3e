/**
 * What the benchmarks share: their settings, starting a service (or a bare baseline) as a child
 * process, waiting for it, stopping it, one autocannon load and measurement with the same printout
 * everywhere, rounds and medians, and the ratio against the goal (reported to the runner through
 * result.ts).
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { mongo as driver } from 'mongoose';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { readPid } from '@llmops/local-infra';
import { BatchingProducer, type OutgoingMessage, PlatformaticTransport } from '@llmops/platform';
import { freePort } from '@llmops/testing';
import { type Comparison, reportResult } from './result';

export const ROOT = path.resolve(__dirname, '../../..');
export const KAFKA = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const MONGO = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';

/** The number in env `name` (a benchmark's knob, listed in its header), or `fallback`. */
export function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

/** An environment variable a benchmark's child process needs from its parent. */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** A fresh name for this run's databases and topic prefixes, so runs never see each other's data. */
export function runId(): string {
  return `bench${Date.now().toString(36)}`;
}

/** Starts an in-process Fastify server on a free local port; returns its URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

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

/**
 * SIGTERM, then wait for the exit (the services shut down gracefully); SIGKILL when it has not
 * exited within `graceMs`, so a child stuck in its shutdown (e.g. flushing to a dead broker) cannot
 * hang the benchmark.
 */
export async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Polls `check` every `intervalMs` (200); a throw counts as not ready yet. With `child`, fails as
 * soon as that process has exited instead of waiting out the timeout (60 s).
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  {
    timeoutMs = 60_000,
    intervalMs = 200,
    child,
  }: { timeoutMs?: number; intervalMs?: number; child?: ChildProcess } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/**
 * startService, then waits until its /health/ready answers 200. The child is pushed onto `children`
 * at once, so the caller's `finally` stops it even when it never became ready.
 */
export async function startReadyService(
  entry: string,
  opts: { run: string; db: string; env?: Record<string, string> },
  children: ChildProcess[],
): Promise<Server> {
  const port = await freePort();
  const child = startService(entry, { ...opts, port });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).ok, `${opts.db} service`, { child });
  return { url, pid: child.pid };
}

/** An HTTP benchmark's load and measurement, with its settings resolved (httpBench). */
export interface HttpBench {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** autocannon for `seconds` against `url`; at `overallRate` requests/s when given. */
  load: (url: string, seconds: number, overallRate?: number) => Promise<autocannon.Result>;
  /**
   * measureRequests of `load` at `url`: warm-up, then BENCH_SECONDS measured. With `pid` and
   * `cpuSink`, the server's CPU µs per request (or unit) is also pushed onto `cpuSink`.
   */
  measure: (name: string, url: string, pid?: number, cpuSink?: number[]) => Promise<number>;
  /**
   * `load` at `overallRate`, also returning every successful response's latency in ms, sorted, at
   * the client's timer resolution (autocannon's own percentiles are whole milliseconds).
   */
  latencies: (
    url: string,
    seconds: number,
    overallRate: number,
  ) => Promise<{ result: autocannon.Result; sortedMs: number[] }>;
}

/**
 * The load every HTTP benchmark runs, with the common settings BENCH_CONNECTIONS, BENCH_SECONDS
 * and BENCH_WARMUP_SECONDS (`defaults` per benchmark). With `body`, each request is a POST to
 * `path` of a new `body()` as JSON; without, a GET of the URL itself. `perRequest`: a batch
 * endpoint's units per request (measureRequests).
 */
export function httpBench(o: {
  defaults: { connections: number; seconds: number; warmupSeconds: number };
  path?: string;
  body?: () => string;
  perRequest?: { count: number; unit: string };
  timeoutSeconds?: number;
  /** Headers every request sends besides `content-type` (e.g. an API key), read at each load. */
  headers?: () => Record<string, string>;
}): HttpBench {
  const connections = setting('BENCH_CONNECTIONS', o.defaults.connections);
  const seconds = setting('BENCH_SECONDS', o.defaults.seconds);
  const warmup = setting('BENCH_WARMUP_SECONDS', o.defaults.warmupSeconds);
  const { body, path: route = '/' } = o;
  const requests = (): autocannon.Request[] | undefined =>
    body && [
      {
        method: 'POST',
        path: route,
        headers: { 'content-type': 'application/json', ...o.headers?.() },
        setupRequest: (req) => ({ ...req, body: body() }),
      },
    ];
  const options = (url: string, duration: number, overallRate?: number): autocannon.Options => ({
    url,
    connections,
    duration,
    ...(overallRate ? { overallRate } : {}),
    ...(o.timeoutSeconds ? { timeout: o.timeoutSeconds } : {}),
    ...(body ? { requests: requests() } : {}),
    ...(!body && o.headers ? { headers: o.headers() } : {}),
  });
  const load = (url: string, duration: number, overallRate?: number): Promise<autocannon.Result> =>
    autocannon(options(url, duration, overallRate));
  const measure = (name: string, url: string, pid?: number, cpuSink?: number[]): Promise<number> =>
    measureRequests(name, (duration) => load(url, duration), warmup, seconds, pid, o.perRequest, cpuSink);
  const latencies = (url: string, duration: number, overallRate: number) =>
    new Promise<{ result: autocannon.Result; sortedMs: number[] }>((resolve, reject) => {
      const ms: number[] = [];
      autocannon(options(url, duration, overallRate), (err: unknown, result: autocannon.Result) =>
        err
          ? reject(err instanceof Error ? err : new Error(String(err)))
          : resolve({ result, sortedMs: ms.sort((a, b) => a - b) }),
      ).on('response', (_client, status, _bytes, time) => {
        if (status < 300) ms.push(time);
      });
    });
  return { connections, seconds, warmupSeconds: warmup, load, measure, latencies };
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere
 * or when the process is gone. Throughput on a shared 2-core host swings by ±20% between runs; CPU
 * time per request of the server under test is much steadier, so the benchmarks print both.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds (user + system) in a /proc `stat` file (of a process or of one of its threads). */
function statCpuSeconds(file: string): number | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** CPU seconds so far, by part (see `cpuSplit`). */
export interface CpuSplit {
  main: number;
  otherThreads: number;
  database?: number;
  broker?: number;
}

/**
 * CPU seconds so far of the parts that share a host while a consumer runs: this process's main
 * thread and its other threads (V8's compiler and collector, libuv's pool), and the local
 * MongoDB-wire server and Kafka broker that `npm run infra:up` (or the tests) started, found by
 * their pid files and recognised by their command lines (absent when they run elsewhere). From
 * /proc (Linux); undefined elsewhere.
 */
export function cpuSplit(): CpuSplit | undefined {
  try {
    let main = 0;
    let otherThreads = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const seconds = statCpuSeconds(`/proc/self/task/${tid}/stat`) ?? 0;
      if (Number(tid) === process.pid) main = seconds;
      else otherThreads += seconds;
    }
    return {
      main,
      otherThreads,
      database: cpuSeconds(localPid('mongodb', /ferretdb|mongod/)),
      broker: cpuSeconds(localPid('kafka', /kafka\.Kafka/)),
    };
  } catch {
    return undefined;
  }
}

/** The pid of local component `name` when its pid file names a live process running `command`. */
function localPid(name: string, command: RegExp): number | undefined {
  const pid = readPid(name);
  if (pid === undefined) return undefined;
  try {
    return command.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `main thread 330 ms, its other threads 350 ms, database 280 ms, broker 40 ms: 1000 ms of CPU in
 * 598 ms, 84% of 2 cores` for the CPU used between two `cpuSplit`s over `wallMs`.
 */
export function describeCpuSplit(
  before: CpuSplit | undefined,
  after: CpuSplit | undefined,
  wallMs: number,
): string {
  if (!before || !after) return 'CPU by thread: not available here';
  const ms = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : Math.round((b - a) * 1000);
  const parts: Array<[string, number | undefined]> = [
    ['main thread', ms(before.main, after.main)],
    ['its other threads', ms(before.otherThreads, after.otherThreads)],
    ['database', ms(before.database, after.database)],
    ['broker', ms(before.broker, after.broker)],
  ];
  const known = parts.filter((p): p is [string, number] => p[1] !== undefined);
  const total = known.reduce((n, [, v]) => n + v, 0);
  const cores = os.availableParallelism();
  return (
    `${known.map(([name, v]) => `${name} ${v} ms`).join(', ')}: ${total} ms of CPU in ${wallMs.toFixed(0)} ms,` +
    ` ${((100 * total) / (wallMs * cores)).toFixed(0)}% of ${cores} cores`
  );
}

/** The whole host's CPU time so far (all cores, from /proc/stat): busy and total ticks. */
export function hostCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = ticks[3] + ticks[4]; // idle + iowait
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * ` host 93% busy` between `before` and now: whether the measurement saturated the machine (every
 * server, Kafka, FerretDB and autocannon share its cores) or was bound by latency instead.
 */
export function hostBusySince(before: { busy: number; total: number } | undefined): string {
  const after = hostCpu();
  if (!before || !after || after.total === before.total) return '';
  return `  host ${((100 * (after.busy - before.busy)) / (after.total - before.total)).toFixed(0)}% busy`;
}

/** ` cpu 123 µs/req` for the CPU `pid` used between `before` and now, per unit of work. */
export function cpuPerUnit(
  pid: number | undefined,
  before: number | undefined,
  units: number,
  unit: string,
): string {
  const after = cpuSeconds(pid);
  if (before === undefined || after === undefined || units === 0) return '';
  return `  cpu ${(((after - before) * 1e6) / units).toFixed(0)} µs/${unit}`;
}

/**
 * A warm-up run, then the measured run; prints req/s and latency (and, with `pid`, the server's CPU
 * time per request), fails on any non-2xx. Returns requests/s or, with `perRequest` (a batch
 * endpoint), units/s: the successful requests times `perRequest.count`, over the run's seconds.
 */
export async function measureRequests(
  name: string,
  load: (seconds: number) => Promise<autocannon.Result>,
  warmupSeconds: number,
  seconds: number,
  pid?: number,
  perRequest?: { count: number; unit: string },
  cpuSink?: number[],
): Promise<number> {
  await load(warmupSeconds);
  const before = cpuSeconds(pid);
  const host = hostCpu();
  const r = await load(seconds);
  const after = cpuSeconds(pid);
  const units = perRequest ? r['2xx'] * perRequest.count : r.requests.total;
  if (cpuSink && before !== undefined && after !== undefined && units > 0) {
    cpuSink.push(((after - before) * 1e6) / units);
  }
  const bad = r.non2xx + r.errors + r.timeouts;
  const latency = `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`;
  if (perRequest) {
    const units = r['2xx'] * perRequest.count;
    const rate = units / seconds;
    console.log(
      `${name.padEnd(9)} ${rate.toFixed(0).padStart(7)} ${perRequest.unit}s/s  (${r.requests.average.toFixed(0)} requests/s, ${latency}, ${bad} non-2xx/errors)${cpuPerUnit(pid, before, units, perRequest.unit)}${hostBusySince(host)}`,
    );
    if (bad > 0) throw new Error(`${name}: ${bad} failed requests`);
    return rate;
  }
  console.log(
    `${name.padEnd(9)} ${r.requests.average.toFixed(0).padStart(7)} req/s  ${latency}  (${r.requests.total} requests, ${bad} non-2xx/errors)${cpuPerUnit(pid, before, r.requests.total, 'req')}${hostBusySince(host)}`,
  );
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests`);
  return r.requests.average;
}

/**
 * Measures every entry once per round for `rounds` rounds (BENCH_ROUNDS, default 3), rotating the
 * order each round, and returns each entry's median. A first round warms every server up and is
 * not counted: a service's first seconds under load cost up to 1.5x the CPU per request of later
 * ones (JIT tiers, heap sizing, producer batches), which a short per-measurement warm-up missed.
 * On a shared 2-core host one measurement swings by ±20%; interleaved rounds keep a slow minute
 * from landing on one side of a ratio only. Also prints, per entry, its ratio to the first entry
 * (the baseline) within each round: min, median, max.
 */
export async function medianOfRounds<K extends string>(
  entries: Record<K, () => Promise<number>>,
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
): Promise<Record<K, number>> {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`BENCH_ROUNDS must be a whole number of at least 1, got ${rounds}`);
  }
  const names = Object.keys(entries) as K[];
  const samples = new Map<K, number[]>(names.map((n) => [n, []]));
  console.log('warm-up round (not counted)');
  for (const n of names) await entries[n]();
  for (let r = 0; r < rounds; r++) {
    console.log(`round ${r + 1} of ${rounds}`);
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length];
      samples.get(n)?.push(await entries[n]());
    }
  }
  const at = (n: K): number[] => samples.get(n) ?? [];
  const medians = {} as Record<K, number>;
  for (const n of names) medians[n] = median(at(n));
  console.log(
    `medians of ${rounds} rounds: ${names.map((n) => `${n} ${medians[n].toFixed(0)}/s`).join(', ')}`,
  );
  const base = at(names[0]);
  for (const n of names.slice(1)) {
    const ratios = at(n).map((v, i) => v / base[i]);
    const sorted = [...ratios].sort((x, y) => x - y);
    console.log(
      `  ${n}/${names[0]} per round: min ${sorted[0].toFixed(2)}, median ${median(ratios).toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}`,
    );
  }
  return medians;
}

/** The `q` quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A server under measurement: where it listens and, for CPU accounting, its process id. */
export interface Server {
  url: string;
  pid?: number;
}

export type Role = 'bare' | 'bound' | 'nest-bound' | 'claim-bound';

/**
 * Starts the servers `roles` of the benchmark file `file` (runBench's BENCH_ROLE children: the bare
 * baseline and the bounds) with `env`, each on a free port, and waits until `probe(url)` answers
 * true for each. The children are pushed onto `children` as they start, so the caller's `finally`
 * stops them even on failure.
 */
export async function startRoleServers<R extends Role>(
  file: string,
  roles: readonly R[],
  env: Record<string, string>,
  probe: (url: string) => Promise<boolean>,
  children: ChildProcess[],
): Promise<Record<R, Server>> {
  const servers = {} as Record<R, Server>;
  for (const role of roles) {
    const port = await freePort();
    const child = startNode([file], { ...env, BENCH_ROLE: role, PORT: String(port) });
    children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(() => probe(url), role, { child });
    servers[role] = { url, pid: child.pid };
  }
  return servers;
}

/**
 * The HTTP benchmarks' comparison: baseline, ours, bound and nest-bound in rounds (medianOfRounds),
 * then ours against the goal and the bound lines. Returns the medians (requests/s).
 */
export async function measureAgainstBounds(
  measureName: string,
  measure: (name: string, url: string, pid?: number) => Promise<number>,
  s: {
    baseline: Server;
    ours: Server;
    bound: Server;
    nestBound: Server;
    claimBound?: Server;
    /** More servers measured in the same rounds (e.g. ours with a feature off); medians in `also`. */
    also?: Record<string, Server>;
  },
  goal: number,
): Promise<{
  baseline: number;
  ours: number;
  bound: number;
  nestBound: number;
  claimBound?: number;
  also: Record<string, number>;
}> {
  const entries: Record<string, () => Promise<number>> = {
    baseline: () => measure('baseline', s.baseline.url, s.baseline.pid),
    ours: () => measure('ours', s.ours.url, s.ours.pid),
    bound: () => measure('bound', s.bound.url, s.bound.pid),
    nestBound: () => measure('nest-bound', s.nestBound.url, s.nestBound.pid),
  };
  const { claimBound } = s;
  if (claimBound) entries.claimBound = () => measure('claim-bound', claimBound.url, claimBound.pid);
  for (const [name, server] of Object.entries(s.also ?? {})) {
    entries[name] = () => measure(name, server.url, server.pid);
  }
  const medians = await medianOfRounds(entries);
  const m = {
    baseline: medians.baseline,
    ours: medians.ours,
    bound: medians.bound,
    nestBound: medians.nestBound,
    ...(claimBound ? { claimBound: medians.claimBound } : {}),
    also: Object.fromEntries(Object.keys(s.also ?? {}).map((name) => [name, medians[name]])),
  };
  reportRatio(measureName, m.ours, m.baseline, goal);
  reportBounds(m);
  return m;
}

/** Prints the bound lines: each bound against the baseline, and ours against each bound. */
export function reportBounds(m: {
  baseline: number;
  ours: number;
  bound: number;
  nestBound?: number;
  claimBound?: number;
}): void {
  console.log(
    `bound (bare Fastify + the awaited Kafka ack, nothing else) = ${(m.bound / m.baseline).toFixed(2)}x baseline (a ceiling with this producer); ours = ${(m.ours / m.bound).toFixed(2)}x bound`,
  );
  if (m.nestBound !== undefined) {
    console.log(
      `nest-bound (the same route as the smallest NestJS app) = ${(m.nestBound / m.baseline).toFixed(2)}x baseline (a ceiling for a Nest-routed service); ours = ${(m.ours / m.nestBound).toFixed(2)}x nest-bound`,
    );
  }
  if (m.claimBound !== undefined) {
    console.log(
      `claim-bound (bare Fastify + the smallest revision claims in MongoDB, then the awaited Kafka ack) = ${(m.claimBound / m.baseline).toFixed(2)}x baseline (a ceiling for a service that claims before it publishes); ours = ${(m.ours / m.claimBound).toFixed(2)}x claim-bound`,
    );
  }
}

/**
 * Reports ours/baseline against the goal `>= goal` (printed, and handed to `npm run bench`);
 * `goal` undefined: a figure without a goal. Returns the ratio.
 */
export function reportRatio(
  measure: string,
  ours: number,
  baseline: number,
  goal?: number,
  op: Comparison = '>=',
): number {
  const ratio = ours / baseline;
  reportResult({
    measure,
    value: ratio,
    unit: 'x',
    ...(goal === undefined ? {} : { goal: { op, value: goal } }),
  });
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
 * A benchmark's entry: runs `main` (exit 0 when it resolves, 1 with the error when it throws) or,
 * with BENCH_ROLE, one of the servers of `route` that startRoleServers starts: `bare` (the
 * baseline: runBare), `bound`, `claim-bound` (runBareWithKafka) or `nest-bound` (runNestWithKafka).
 */
export function runBench(main: () => Promise<void> | void, route?: BoundRoute | (() => BoundRoute)): void {
  const fail = (err: unknown): void => {
    console.error(err);
    process.exit(1);
  };
  const role = process.env.BENCH_ROLE;
  if (role === undefined) {
    Promise.resolve()
      .then(main)
      .then(() => process.exit(0), fail);
    return;
  }
  if (!route) return fail(new Error(`BENCH_ROLE=${role}: this benchmark has no servers`));
  const r = typeof route === 'function' ? route() : route;
  if (role === 'bare') runBare(r).catch(fail);
  else if (role === 'bound') runBareWithKafka(r).catch(fail);
  else if (role === 'nest-bound') runNestWithKafka(r).catch(fail);
  else if (role === 'claim-bound') runBareWithKafka(r, true).catch(fail);
  else fail(new Error(`BENCH_ROLE=${role}: this benchmark has no such server`));
}

/**
 * Child mode for the baseline: bare Fastify with the route's one POST, answering `status` with
 * `response(body)` and doing nothing else (no Kafka, no MongoDB).
 */
export async function runBare(route: BoundRoute): Promise<void> {
  const app = Fastify({ logger: false });
  app.post(route.path, async (req, reply) =>
    reply.status(route.status).send(route.response((req.body ?? {}) as Record<string, unknown>)),
  );
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

export interface BoundRoute {
  path: string;
  status: number;
  response: (body: Record<string, unknown>) => unknown;
  messages: (body: Record<string, unknown>) => OutgoingMessage[];
  /** For the claim-bound: the claim documents of `body`, written before `messages` are sent. */
  claims?: (body: Record<string, unknown>) => ClaimDocument[];
}

/** A revision claim as small as a design can store it: the unique `_id` plus what edits compare. */
export interface ClaimDocument {
  _id: string;
  [field: string]: unknown;
}

/**
 * Group commit for the claim-bound: the claims of concurrent requests share one unordered
 * insertMany (at most 2,000 documents), with up to `maxInFlight` writes at once (BENCH_CLAIM_WRITERS,
 * default 1 like the service) and, with BENCH_CLAIM_LINGER_MS, a group waiting for more claims
 * (the feedback README lists what each setting measured).
 */
class ClaimWriter {
  private queue: { docs: ClaimDocument[]; at: number; done: (err?: unknown) => void }[] = [];
  private inFlight = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: driver.MongoClient,
    private readonly collection: string,
    private readonly maxInFlight: number,
    private readonly lingerMs: number,
  ) {}

  write(docs: ClaimDocument[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ docs, at: Date.now(), done: (err) => (err ? reject(err) : resolve()) });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const wait = this.queue[0].at + this.lingerMs - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const group: typeof this.queue = [];
      let count = 0;
      while (this.queue.length > 0 && (count === 0 || count + this.queue[0].docs.length <= 2_000)) {
        const next = this.queue.shift()!;
        group.push(next);
        count += next.docs.length;
      }
      this.inFlight++;
      this.client
        .db(process.env.BENCH_CLAIM_DB ?? 'bench_claims')
        .collection<ClaimDocument>(this.collection)
        .insertMany(
          group.flatMap((g) => g.docs),
          { ordered: false },
        )
        .then(
          () => group.forEach((g) => g.done()),
          (err: unknown) => group.forEach((g) => g.done(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}

/**
 * The platform's BatchingProducer as the services build it (PlatformaticTransport, batch 500,
 * linger 5 ms or BENCH_PRODUCER_LINGER_MS), connected.
 */
async function boundProducer(): Promise<{ producer: BatchingProducer; topic: string }> {
  const logger = pino({ level: 'warn' });
  const transport = new PlatformaticTransport({
    brokers: KAFKA.split(','),
    clientId: 'bench-bound',
    sendTimeoutMs: 10_000,
  });
  const lingerMs = process.env.BENCH_PRODUCER_LINGER_MS;
  const producer = new BatchingProducer(transport, {
    logger,
    ...(lingerMs === undefined ? {} : { lingerMs: Number(lingerMs) }),
  });
  await producer.connect();
  return { producer, topic: process.env.BENCH_TOPIC ?? '' };
}

/**
 * Child mode for the "bound" line of the HTTP benchmarks: bare Fastify plus exactly the durability
 * the issue demands and nothing else. One POST route that parses the body (fastify's JSON parser),
 * sends `messages(body)` through the platform's BatchingProducer to the real topic (acks -1), awaits
 * the acknowledgement and answers `status` with `response`. No NestJS, no validation, no metrics,
 * no context, no event building beyond `messages`. A service that awaits the ack through this
 * producer cannot be faster than this; so bound/baseline is the best ratio such a service can reach
 * on this host. Env: PORT, KAFKA_BROKERS, BENCH_TOPIC.
 *
 * `withClaims` (the "claim-bound", feedback benchmarks): before publishing, the route also writes
 * `claims(body)` to MongoDB (ClaimWriter: grouped across requests) and awaits them, as any
 * service must that tells retries and edits apart by a claim stored before the event is published
 * (claiming after publishing could publish an event whose claim then fails). Env also: MONGODB_URI,
 * BENCH_CLAIM_DB (a database the benchmark drops afterwards), BENCH_CLAIM_WRITERS (1),
 * BENCH_CLAIM_LINGER_MS (0), BENCH_CLAIM_PARALLEL (1: claim and publish at the same time, which is
 * only sound for ids the server generated; see the feedback README).
 */
export async function runBareWithKafka(route: BoundRoute, withClaims = false): Promise<void> {
  const { producer, topic } = await boundProducer();
  let claims: ClaimWriter | undefined;
  let mongo: driver.MongoClient | undefined;
  const parallel = process.env.BENCH_CLAIM_PARALLEL === '1';
  if (withClaims) {
    if (!route.claims) throw new Error('claim-bound: this benchmark defines no claims');
    mongo = await new driver.MongoClient(MONGO).connect();
    claims = new ClaimWriter(
      mongo,
      `claims_${uuidv7()}`,
      Number(process.env.BENCH_CLAIM_WRITERS ?? 1),
      Number(process.env.BENCH_CLAIM_LINGER_MS ?? 0),
    );
  }
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  app.post(route.path, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (claims && route.claims && parallel) {
      await Promise.all([claims.write(route.claims(body)), producer.send(topic, route.messages(body))]);
    } else {
      if (claims && route.claims) await claims.write(route.claims(body));
      await producer.send(topic, route.messages(body));
    }
    return reply.status(route.status).send(route.response(body));
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => producer.close())
      .then(() => mongo?.close())
      .then(() => process.exit(0));
  });
}

/**
 * Child mode for the "NestJS bound": the same route as runBareWithKafka, but as the smallest NestJS
 * application on Nest's FastifyAdapter (one module, one controller, no pipes, guards, filters,
 * hooks or logging): a ceiling for a service whose routes go through Nest's router.
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
