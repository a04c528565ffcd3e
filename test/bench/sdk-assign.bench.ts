/**
 * Benchmark: local `client.experiments.assign()` of the TypeScript SDK (@llmops/client, from its
 * sources) against a bare loop of `crypto.hash('md5', id)` over the same user ids, in the same
 * process and run.
 *
 *  - The client takes its snapshot from a real assignment service (support/sdk-assignment.ts:
 *    the service as a process, one running two-arm experiment) through the long poll of
 *    `GET /v1/experiments/snapshots`, as an application does; `ready()` waits for it.
 *  - ours, first sight (the goal): each user's first assignment, which also queues its exposure;
 *    the timing covers the loop and the `flush()` after it that sends those exposures to
 *    `POST /v1/exposures` in batches of 1,000 (the buffer holds every one: nothing is dropped), since
 *    sending is CPU the application pays per fresh assignment. The loop alone (exposure queued, not
 *    yet sent) is printed per round too. The service checks each exposure against its own
 *    assignment: the run fails if it refuses one.
 *  - ours, returning users: the same users assigned again, as an application assigns a user on
 *    each request. The client answers them from its memory of their last answer while the
 *    snapshot is unchanged (and queues no exposure: it was queued at first sight).
 *  - baseline: `crypto.hash('md5', id)` (hex; `createHash` where `crypto.hash` is missing), nothing else.
 * Each round uses a fresh set of BENCH_USERS ids: baseline, first sight, baseline, returning; the
 * ratios use the medians of the rounds' ratios. Rates are in CPU time of this process (user +
 * system, from process.cpuUsage), so the other processes of a shared host do not land on one side;
 * the flush's wait for the service costs no CPU here and is not counted.
 *
 * No network call per assignment: every request the client makes goes through its `fetch` option,
 * which counts them by route. Reported: the requests made during the returning users' loops per
 * assignment (goal 0; the snapshot long poll, held by the service, is left aside), and the
 * exposure batches per 1,000 first-sight assignments (no goal).
 *
 * Run: BENCH_ONLY=sdk-assign npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI, BENCH_USERS (100000: the users the client remembers),
 *      BENCH_ROUNDS (5).
 * Goals: first sight (fresh users, exposure queued and sent) >= 0.5x the md5 loop; 0 requests per
 * assignment. Returning users are a second row, without a goal.
 */
import type { ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
// The SDK from its sources, as its own tests use it; benchmarks are the one place allowed to reach
// into a project by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { LlmopsClient } from '../../libs/sdk/src';
import { median, reportRatio, runBench, runId, setting, stopChild } from './support/harness';
import { reportResult } from './support/result';
import { type AssignmentStack, startAssignmentStack } from './support/sdk-assignment';

const USERS = setting('BENCH_USERS', 100_000);
const ROUNDS = setting('BENCH_ROUNDS', 5);
const GOAL = 0.5;
const BATCH = 1_000;

const md5: (id: string) => string =
  typeof crypto.hash === 'function'
    ? (id) => crypto.hash('md5', id)
    : (id) => crypto.createHash('md5').update(id).digest('hex');

/** Microseconds of CPU this process used so far. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Requests the client made, by method and path. The client calls its fetch with a Request or with a
 * URL and init (exposure batches); both are passed on as given, so a batch costs what it costs
 * with the default fetch (a Request made of them would add a stream copy of the body).
 */
const requests = new Map<string, number>();
const countingFetch: typeof fetch = (input, init) => {
  const route =
    input instanceof Request
      ? `${input.method} ${new URL(input.url).pathname}`
      : `${init?.method ?? 'GET'} ${new URL(input).pathname}`;
  requests.set(route, (requests.get(route) ?? 0) + 1);
  return fetch(input, init);
};
const SNAPSHOTS = 'GET /v1/experiments/snapshots';
/** Requests so far, the snapshot long poll left aside. */
const requestsBesidesSnapshots = (): number =>
  [...requests].reduce((sum, [route, n]) => (route === SNAPSHOTS ? sum : sum + n), 0);

async function main(): Promise<void> {
  const run = runId();
  const children: ChildProcess[] = [];
  let client: LlmopsClient | undefined;
  let stack: AssignmentStack | undefined;
  try {
    stack = await startAssignmentStack(run, children);
    const { experiment } = stack;
    client = new LlmopsClient({
      apiKey: stack.key.key,
      urls: { assignment: stack.url },
      buffer: { maxItems: USERS + BATCH, maxBatch: BATCH },
      fetch: countingFetch,
    });
    const c = client;
    if (!(await c.experiments.ready(30_000))) throw new Error('no snapshot from the assignment service');

    let sink = 0;
    const baseline = (ids: string[]): number => {
      const t = cpuMicros();
      for (let i = 0; i < ids.length; i++) sink += md5(ids[i]).charCodeAt(0);
      return ids.length / ((cpuMicros() - t) / 1e6);
    };
    const loop = async (ids: string[]): Promise<void> => {
      for (let i = 0; i < ids.length; i++) {
        const a = await c.experiments.assign(experiment, ids[i]);
        if (a.source !== 'local') throw new Error(`assigned ${a.source}ly: ${JSON.stringify(a)}`);
        sink += a.arm.length;
      }
    };
    /** Rates of a first-sight round: with the exposures sent, and of the loop alone (queued). */
    const firstSight = async (ids: string[]): Promise<{ sent: number; queued: number }> => {
      const t = cpuMicros();
      await loop(ids);
      const looped = cpuMicros();
      const { rejected } = await c.flush();
      const sent = ids.length / ((cpuMicros() - t) / 1e6);
      if (rejected.length > 0)
        throw new Error(`the service refused exposures: ${JSON.stringify(rejected[0])}`);
      return { sent, queued: ids.length / ((looped - t) / 1e6) };
    };
    let returningAssignments = 0;
    let returningRequests = 0;
    const returning = async (ids: string[]): Promise<number> => {
      const before = requestsBesidesSnapshots();
      const t = cpuMicros();
      await loop(ids);
      const rate = ids.length / ((cpuMicros() - t) / 1e6);
      returningRequests += requestsBesidesSnapshots() - before;
      returningAssignments += ids.length;
      return rate;
    };

    const ids = (round: number): string[] => {
      const set = Array.from({ length: USERS }, (_, i) => `${run}-r${round}-user-${i}`);
      // Reading a character flattens V8's concatenated strings, so neither side pays it.
      for (const id of set) sink += id.charCodeAt(0);
      return set;
    };
    // Warm-up (JIT) on every path, not counted.
    const warm = ids(-1);
    baseline(warm);
    await firstSight(warm);
    await returning(warm);
    returningAssignments = 0;
    returningRequests = 0;
    const exposuresBefore = requests.get('POST /v1/exposures') ?? 0;
    const first: number[] = [];
    const queued: number[] = [];
    const again: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const set = ids(r);
      const b1 = baseline(set);
      const f = await firstSight(set);
      const b2 = baseline(set);
      const a = await returning(set);
      first.push(f.sent / b1);
      queued.push(f.queued / b1);
      again.push(a / b2);
      console.log(
        `round ${r + 1} of ${ROUNDS}: md5 ${(b1 / 1e6).toFixed(2)}/${(b2 / 1e6).toFixed(2)} M/s, first sight ${(f.sent / 1e6).toFixed(2)} M/s (${(f.sent / b1).toFixed(2)}x; loop alone, exposures queued: ${(f.queued / b1).toFixed(2)}x), returning ${(a / 1e6).toFixed(2)} M/s (${(a / b2).toFixed(2)}x)`,
      );
    }
    const exposureBatches = (requests.get('POST /v1/exposures') ?? 0) - exposuresBefore;
    const metrics = c.metrics();
    console.log(
      `local assign() benchmark: ${USERS} users per round, ${ROUNDS} rounds (median), CPU time of this process; sink ${sink % 10}`,
    );
    console.log(
      `requests by route over the whole run: ${[...requests].map(([r, n]) => `${r} ${n}`).join(', ')}; exposures sent ${metrics.sent}, dropped ${metrics.dropped}, rejected ${metrics.rejected}`,
    );
    if (metrics.dropped > 0) throw new Error(`${metrics.dropped} exposures dropped`);
    reportRatio(
      'local assign() of fresh users (exposure queued and sent)/s, ours/bare md5 loop',
      median(first),
      1,
      GOAL,
    );
    reportRatio('local assign() of returning users/s, ours/bare md5 loop', median(again), 1);
    console.log(`first sight, the loop alone (exposures queued, not sent): ${median(queued).toFixed(2)}x`);
    reportResult({
      measure: 'HTTP requests per returning-user assign() (snapshot long poll aside)',
      value: returningRequests / returningAssignments,
      unit: 'requests',
      goal: { op: '<=', value: 0 },
    });
    reportResult({
      measure: 'exposure batches per 1,000 first-sight assign()',
      value: (1_000 * exposureBatches) / (USERS * ROUNDS),
      unit: 'requests',
    });
  } finally {
    await client?.shutdown().catch(() => undefined);
    for (const child of children) await stopChild(child);
    await stack?.close();
  }
}

runBench(main);
