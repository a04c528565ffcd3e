/**
 * Idle memory and startup time of each service as production runs it: the built JavaScript
 * (`node --enable-source-maps dist/services/<name>/src/main.js`, with the Node flags its image sets,
 * what the Docker image and the Kubernetes manifests start) against the running Kafka and MongoDB. The benchmark builds first
 * (`npm run build`; unchanged projects are Nx cache hits). Then, one service at a time, alone:
 *
 * - startup: the time from spawn to the first 200 of /health/ready (every dependency probed), and
 *   the CPU time the process used until then (less sensitive than the wall time to a busy host);
 * - idle RSS: the resident set size after the ready service has idled BENCH_SETTLE_MS (5 s).
 *
 * The development path (`node -r @swc-node/register services/<name>/src/main.ts`, as `npm start`
 * runs the services) is measured the same way in the same run, for comparison, without a goal.
 * Goals: under 150 MB idle and under 2 s to ready.
 *
 *   node -r @swc-node/register test/bench/service-footprint.bench.ts
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { freePort, serviceArgs } from '@llmops/testing';
import {
  cpuSeconds,
  KAFKA,
  MONGO,
  ROOT,
  runBench,
  runId,
  setting,
  stopChild,
  waitUntil,
} from './support/harness';
import { reportResult } from './support/result';

const SERVICES = ['registry', 'assignment', 'feedback', 'analytics'] as const;
const SETTLE_MS = setting('BENCH_SETTLE_MS', 5_000);
const RSS_GOAL_MB = 150;
const READY_GOAL_MS = 2_000;

const MODES = {
  built: (name: string) => serviceArgs(name, 'built'),
  development: (name: string) => serviceArgs(name, 'source'),
};
type Mode = keyof typeof MODES;

interface Footprint {
  readyMs: number;
  readyCpuMs: number;
  rssMb: number;
}

/** Resident set size of a process, in MB (Linux /proc; elsewhere ps). */
function rssMb(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

async function measure(name: string, mode: Mode, run: string): Promise<Footprint> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, MODES[mode](name), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      KAFKA_BROKERS: KAFKA,
      MONGODB_URI: MONGO,
      MONGODB_DB: `${run}_${name}`,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      ANALYTICS_CONSUMER_GROUP: `${run}-analytics`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).ok, `${name} (${mode})`, {
      child,
      intervalMs: 20,
      timeoutMs: 120_000,
    });
    const readyMs = performance.now() - started;
    const readyCpuMs = (cpuSeconds(child.pid) ?? Number.NaN) * 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { readyMs, readyCpuMs, rssMb: rssMb(child.pid!) };
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const run = runId();
  const load = () => os.loadavg()[0].toFixed(1);
  console.log(`${os.cpus().length} cores, load average ${load()} at start; settle ${SETTLE_MS} ms`);
  const rows: string[] = [];
  for (const name of SERVICES) {
    const built = await measure(name, 'built', run);
    const dev = await measure(name, 'development', run);
    const cells = (f: Footprint) =>
      [`${f.rssMb.toFixed(0)} MB`, `${f.readyMs.toFixed(0)} ms`, `${f.readyCpuMs.toFixed(0)} ms`]
        .map((c) => c.padStart(9))
        .join(' ');
    rows.push(`  ${name.padEnd(11)} ${cells(built)}   ${cells(dev)}`);
    reportResult({
      measure: `${name} idle RSS, built`,
      value: built.rssMb,
      unit: 'MB',
      goal: { op: '<', value: RSS_GOAL_MB },
    });
    reportResult({
      measure: `${name} spawn to ready, built`,
      value: built.readyMs,
      unit: 'ms',
      goal: { op: '<', value: READY_GOAL_MS },
    });
    reportResult({ measure: `${name} CPU to ready, built`, value: built.readyCpuMs, unit: 'ms' });
    reportResult({
      measure: `${name} idle RSS, development (@swc-node/register)`,
      value: dev.rssMb,
      unit: 'MB',
    });
    reportResult({ measure: `${name} spawn to ready, development`, value: dev.readyMs, unit: 'ms' });
  }
  const head = ['idle RSS', 'ready', 'CPU'].map((c) => c.padStart(9)).join(' ');
  console.log(`\n  ${''.padEnd(11)} ${'built'.padEnd(29)}   development (load average ${load()})`);
  console.log(`  ${'service'.padEnd(11)} ${head}   ${head}`);
  for (const row of rows) console.log(row);
}

runBench(main);
