/**
 * Benchmark: in-process assignment against a bare loop of `crypto.hash('md5', …)` over the same
 * user ids, in the same run.
 *
 *  - ours: `store.get(experiment).assign(userId)` on the service's ExperimentStore, for a running
 *    two-arm experiment (what POST /v1/assign runs between parsing and the exposure): experiment
 *    lookup, user id validation, md5 bucket, arm lookup, the assignment counter, the shared
 *    response object;
 *  - baseline: `crypto.hash('md5', seed + ':' + userId)` (hex), nothing else.
 * Each side runs ROUNDS times over the same ids, alternating; the median rate is reported.
 *
 * Run: BENCH_ONLY=assignment-inprocess npm run bench
 * Env: BENCH_USERS (500000), BENCH_ROUNDS (5).
 * Goal: ours >= 0.5x baseline assignments/s.
 */
import { hash } from 'node:crypto';
import { DEFAULT_PROJECT } from '@llmops/contracts';
import pino from 'pino';
import { Registry } from 'prom-client';
// Measuring the service's own in-memory path needs its code; services have no import alias, and
// benchmarks (like the jest global setup) are the one place allowed to reach in by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ExperimentStore } from '../../services/assignment/src/experiments/experiment-store';
import { median, reportRatio, runBench, setting } from './support/harness';

const USERS = setting('BENCH_USERS', 500_000);
const ROUNDS = setting('BENCH_ROUNDS', 5);
const GOAL = 0.5;
const SEED = 'summarizer_prompt';

function main(): void {
  const ids = Array.from({ length: USERS }, (_, i) =>
    i % 10 === 0 ? `tenant:${i}:ünï` : `user-${i}-${(i * 2654435761) % 1e9}`,
  );
  const store = new ExperimentStore(new Registry(), pino({ level: 'warn' }));
  store.apply(
    DEFAULT_PROJECT,
    {
      key: 'bench',
      description: '',
      status: 'running',
      phase: 1,
      seed: SEED,
      hashVersion: 1,
      trafficAllocation: 1,
      control: 'A',
      arms: [
        { name: 'A', weight: 0.5, prompt: { name: 'p', ref: '1', hash: 'a'.repeat(64) } },
        { name: 'B', weight: 0.5, prompt: { name: 'p', ref: '2', hash: 'b'.repeat(64) } },
      ],
      revision: 1,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    },
    'local',
  );

  let sink = 0;
  const baseline = (): number => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < ids.length; i++) sink += hash('md5', `${SEED}:${ids[i]}`).charCodeAt(0);
    return ids.length / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const ours = (): number => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < ids.length; i++)
      sink += store.get(DEFAULT_PROJECT, 'bench')!.assign(ids[i]).response.arm.length;
    return ids.length / (Number(process.hrtime.bigint() - t) / 1e9);
  };

  // Warm-up (JIT) on both paths.
  baseline();
  ours();
  const b: number[] = [];
  const o: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(baseline());
    o.push(ours());
  }
  const rb = median(b);
  const ro = median(o);
  console.log(
    `in-process assignment benchmark: ${USERS} user ids, ${ROUNDS} rounds (median), sink ${sink % 10}`,
  );
  console.log(
    `baseline  crypto.hash('md5') loop   ${(rb / 1e6).toFixed(3)} M/s  (${(1e9 / rb).toFixed(0)} ns each)`,
  );
  console.log(
    `ours      store.get().assign      ${(ro / 1e6).toFixed(3)} M/s  (${(1e9 / ro).toFixed(0)} ns each)`,
  );
  reportRatio('assignments/s, ours/bare md5 loop', ro, rb, GOAL);
}

runBench(main);
