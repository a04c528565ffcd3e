/**
 * Benchmark: local `client.experiments.assign` of the Python SDK (llmops-client, installed into
 * .local/venv by .ci/run) against a bare `hashlib.md5(id.encode()).digest()` loop over the same
 * ids. This file starts the assignment service with one running two-arm experiment
 * (support/sdk-assignment.ts) and runs test/bench/sdk_assign.py with .local/venv/bin/python, which
 * measures both loops in its own process and prints the medians; see that script for what each
 * side does and how it is timed (CPU time of the Python process, the exposures' sending included).
 *
 * Reported: assign/md5 for fresh users, each queueing its exposure (goal >= 0.5x); requests per
 * assignment besides the exposure batches and the snapshot long poll (goal 0); assign/md5 for
 * returning users (exposure already sent, none queued), the calling thread's share alone of the
 * fresh loop and the exposure batches per 1,000 fresh assignments (no goal).
 *
 * Run: BENCH_ONLY=sdk-assign-python npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI, BENCH_USERS (50000), BENCH_ROUNDS (5).
 * Goals: >= 0.5x the md5 loop; 0 requests per assignment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { reportRatio, ROOT, runBench, runId, stopChild } from './support/harness';
import { reportResult } from './support/result';
import { type AssignmentStack, startAssignmentStack } from './support/sdk-assignment';

const PYTHON = path.join(ROOT, '.local', 'venv', 'bin', 'python');
const GOAL = 0.5;

interface PythonResult {
  users: number;
  rounds: number;
  ratio: number;
  threadRatio: number;
  returningRatio: number;
  otherRequestsPerAssignment: number;
  exposureBatchesPer1000: number;
  exposuresSent: number;
  python: string;
}

/** Runs the script, echoing its output; resolves with its RESULT line. */
function runScript(env: Record<string, string>, children: ChildProcess[]): Promise<PythonResult> {
  const child = spawn(PYTHON, [path.join(ROOT, 'test', 'bench', 'sdk_assign.py')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    process.stdout.write(d);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`sdk_assign.py exited with ${code} and no result`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as PythonResult);
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(PYTHON)) {
    throw new Error(
      `${PYTHON} is missing: install the SDK with .local/venv/bin/pip install -e libs/sdk-python`,
    );
  }
  const run = runId();
  const children: ChildProcess[] = [];
  let stack: AssignmentStack | undefined;
  try {
    stack = await startAssignmentStack(run, children);
    const r = await runScript(
      {
        LLMOPS_ASSIGNMENT_URL: stack.url,
        LLMOPS_API_KEY: stack.key.key,
        BENCH_EXPERIMENT: stack.experiment,
      },
      children,
    );
    console.log(
      `Python ${r.python} local assign benchmark: ${r.users} users, ${r.rounds} rounds (median), ${r.exposuresSent} exposures sent and accepted`,
    );
    reportRatio(
      'Python local assign()/s, fresh users (exposure queued), ours/bare hashlib.md5 loop',
      r.ratio,
      1,
      GOAL,
    );
    reportResult({
      measure: 'Python HTTP requests per assign() besides exposure batches and the snapshot long poll',
      value: r.otherRequestsPerAssignment,
      unit: 'requests',
      goal: { op: '<=', value: 0 },
    });
    reportRatio(
      'Python local assign()/s, returning users (no exposure), ours/bare md5 loop',
      r.returningRatio,
      1,
    );
    reportRatio(
      'Python local assign()/s, fresh users, calling thread alone, ours/bare md5 loop',
      r.threadRatio,
      1,
    );
    reportResult({
      measure: 'Python exposure batches per 1,000 fresh assign()',
      value: r.exposureBatchesPer1000,
      unit: 'requests',
    });
  } finally {
    for (const child of children) await stopChild(child);
    await stack?.close();
  }
}

runBench(main);
