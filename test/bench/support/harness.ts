/**
 * What the HTTP benchmarks share: starting a service (or a bare baseline) as a child process,
 * waiting for it, stopping it, and one autocannon measurement with the same printout everywhere.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type autocannon from 'autocannon';

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

/** Runs `main` (exit 0) or, with BENCH_ROLE=bare, the baseline server `bare` of the same file. */
export function runBench(main: () => Promise<void>, bare?: () => Promise<void>): void {
  const fail = (err: unknown): void => {
    console.error(err);
    process.exit(1);
  };
  if (process.env.BENCH_ROLE === 'bare' && bare) bare().catch(fail);
  else main().then(() => process.exit(0), fail);
}
