/**
 * Benchmark: latency of the results of an experiment with 30 days of data,
 * `GET /v1/experiments/{key}/results?window=all`, through the results use case (the controller's
 * call, with the background read path: the request deadline would abort the slow reads), against
 * the same results computed from the window's days, hours and edge minutes (the read without phase
 * roll-ups) and from minute buckets only (the read before any roll-up), in the same run, on the same
 * data.
 *
 * The data is written as the consumer writes it: generations, exposures and feedback of one
 * experiment (2 arms, the three topics, BENCH_PARTITIONS partitions) planned per partition batch by
 * the aggregation planner and stored through the repository. Every event but the last of each topic
 * and partition is written as by a build without phase roll-ups; then, as after the upgrade, each
 * partition is loaded again and consumes its last events knowing the phase start, which establishes
 * the phase roll-ups from the 30 days of stored buckets. Each arm and topic gets events in
 * BENCH_MINUTES_PER_HOUR minutes of every hour for BENCH_DAYS days, each minute's event on one
 * partition, as keyed events spread; the phase starts 17 minutes past an hour.
 *
 * Run: BENCH_ONLY=analytics-results npm run bench
 * Reports: results p99 (goal < 50 ms), the window-read and minute-only p99 (no goal), their ratios,
 * and the documents each read returns.
 * Env: MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_DAYS (30), BENCH_MINUTES_PER_HOUR (1),
 * BENCH_PARTITIONS (6), BENCH_ROUNDS (10: requests per variant, alternating; the p99 of 10 is
 * their maximum). FerretDB 1.24 (SQLite) scans the whole collection for every find, which sets the
 * latency of the window reads here and the defaults (the run stays within about two minutes).
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark writes buckets with the service's planner
   and store and reads them with its results use case, in-process */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { mulberry32 } from '@llmops/stats';
import { v7 as uuidv7 } from 'uuid';
import { type PlannedEvent, planBatch } from '../../services/analytics/src/domain/batch-planner';
import { coverWindow, SPAN_MINUTES } from '../../services/analytics/src/domain/bucket';
import { PartitionState } from '../../services/analytics/src/domain/partition-state';
import { experimentScope } from '../../services/analytics/src/domain/project-scope';
import { EXPERIMENT, type ExperimentDoc } from '../../services/analytics/src/persistence/analytics.schemas';
import { fromStored, latestVersions } from '../../services/analytics/src/persistence/bucket-store';
import { collectionFor } from '../../services/analytics/src/persistence/read-path';
import { computeResults } from '../../services/analytics/src/results/compute-results';
import { GetResultsUseCase } from '../../services/analytics/src/results/get-results.usecase';
import { openPersistence } from '../../services/analytics/test/support/persistence';
import { exposureData, feedbackData, generationData } from '../../services/analytics/test/support/planner';
import { MONGO, quantile, runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const DAYS = setting('BENCH_DAYS', 30);
const PER_HOUR = setting('BENCH_MINUTES_PER_HOUR', 1);
const PARTITIONS = setting('BENCH_PARTITIONS', 6);
const ROUNDS = setting('BENCH_ROUNDS', 10);
const KEY = 'results-bench';
const ARMS = ['a', 'b'];
const CONFIG = { ANALYTICS_MIN_PER_ARM: 200, ANALYTICS_RECOMMENDED_PER_ARM: 500 };

async function main(): Promise<void> {
  const persistence = await openPersistence(MONGO, `bench_results_${uuidv7().replace(/-/g, '')}`);
  const { connection, buckets } = persistence;
  try {
    const end = Math.floor(Date.now() / 60_000);
    // The phase's first minute: 17 minutes past an hour.
    const start = Math.floor(end / 60) * 60 - DAYS * 1440 + 17;
    const phaseStartedAt = new Date(start * 60_000).toISOString();
    const experiment: ExperimentDoc = {
      _id: experimentScope(DEFAULT_PROJECT, KEY),
      project: DEFAULT_PROJECT,
      key: KEY,
      revision: 1,
      status: 'running',
      control: 'a',
      arms: ARMS.map((name) => ({ name, weight: 1 })),
      phase: 1,
      phaseStartedAt,
      stoppedAt: null,
      updatedAt: phaseStartedAt,
    };
    await collectionFor(connection.model<ExperimentDoc>(EXPERIMENT), 'background').insertOne(experiment);

    // Events per (topic, partition) in offset order, then planned and stored in consumer-sized batches.
    const random = mulberry32(1);
    const byPartition = new Map<string, PlannedEvent[]>();
    let n = 0;
    for (let hour = Math.floor(start / 60) * 60; hour < end; hour += 60) {
      for (let k = 0; k < PER_HOUR; k++) {
        const minute = Math.max(start, hour + Math.floor(random() * 60));
        if (minute >= end) continue;
        const t = new Date(minute * 60_000 + 1_000).toISOString();
        for (const arm of ARMS) {
          for (const kind of ['x', 'g', 'f'] as const) {
            const part = Math.floor(random() * PARTITIONS);
            const list = byPartition.get(`${kind}${part}`) ?? [];
            byPartition.set(`${kind}${part}`, list);
            const offset = list.length;
            const id = `${n++}`;
            list.push(
              kind === 'x'
                ? {
                    kind,
                    offset,
                    project: DEFAULT_PROJECT,
                    data: { ...exposureData(`u${id}`, arm), experiment: KEY, assignedAt: t },
                  }
                : kind === 'g'
                  ? {
                      kind,
                      offset,
                      project: DEFAULT_PROJECT,
                      data: generationData(`r${id}`, {
                        experiment: KEY,
                        arm,
                        timestamp: t,
                        latencyMs: 50 + Math.floor(random() * 2000),
                        costUsd: random() / 100,
                      }),
                    }
                  : {
                      kind,
                      offset,
                      project: DEFAULT_PROJECT,
                      data: feedbackData(`f${id}`, {
                        experiment: KEY,
                        arm,
                        timestamp: t,
                        rating: 1 + Math.floor(random() * 5),
                        thumbs: random() < 0.5 ? 'up' : 'down',
                      }),
                    },
            );
          }
        }
      }
    }
    const writeStarted = Date.now();
    let written = 0;
    const repo = persistence.aggregation();
    // Every event but the last of each topic and partition, as a build without phase roll-ups wrote them.
    const states = new Map<number, PartitionState>();
    for (const [key, events] of byPartition) {
      const part = Number(key.slice(1));
      const state = states.get(part) ?? new PartitionState(part);
      states.set(part, state);
      for (let i = 0; i < events.length - 1; i += 500) {
        const plan = planBatch(state, events.slice(i, Math.min(i + 500, events.length - 1)));
        await repo.write(plan);
        written += plan.buckets.length;
      }
    }
    // The upgrade: each partition loaded again from the database consumes its last event of each
    // topic knowing the phase start, and establishes the phase roll-ups from the stored buckets.
    const upgradeStarted = Date.now();
    const loaded = new Map<number, PartitionState>();
    for (const [key, events] of byPartition) {
      const part = Number(key.slice(1));
      const state = loaded.get(part) ?? (await repo.loadPartition(part));
      loaded.set(part, state);
      const plan = planBatch(state, events.slice(-1), () => start);
      await repo.write(plan);
      written += plan.buckets.length;
    }
    const upgradeSeconds = (Date.now() - upgradeStarted) / 1000;
    // Buckets, not versions (superseded versions wait for the store's next bulk delete).
    const count = async (res: 'm' | 'h' | 'd') =>
      (await collectionFor(buckets, 'background').distinct('bucketId', { res })).length;
    const [m, h, d] = [await count('m'), await count('h'), await count('d')];
    console.log(
      `${n} events over ${DAYS} days (${PER_HOUR} minutes an hour per arm and topic, ${PARTITIONS} partitions): ` +
        `${m} minute, ${h} hour and ${d} day buckets (${written} versions written in ${((Date.now() - writeStarted) / 1000).toFixed(1)} s); ` +
        `after the upgrade, ${PARTITIONS} partitions loaded and their phase roll-ups established in ${upgradeSeconds.toFixed(1)} s`,
    );

    const results = new GetResultsUseCase(repo, persistence.experiments, persistence.decisions, CONFIG);
    const limits = {
      minimumPerArm: CONFIG.ANALYTICS_MIN_PER_ARM,
      recommendedPerArm: CONFIG.ANALYTICS_RECOMMENDED_PER_ARM,
    };
    const experimentDoc = async () => {
      const exp = await persistence.experiments.findByKey(DEFAULT_PROJECT, KEY, 'background');
      if (!exp) throw new Error('experiment not found');
      return exp;
    };
    /** The results request: the use case, as the controller calls it (it reads the phase roll-ups). */
    const rolled = async () => results.forExperiment(await experimentDoc(), { window: 'all' }, 'background');
    /** The same results from the window's days, hours and edge minutes (the read without phase roll-ups). */
    const windowRead = async () => {
      const exp = await experimentDoc();
      const read = await repo.bucketsInWindow(
        DEFAULT_PROJECT,
        KEY,
        start,
        Number.MAX_SAFE_INTEGER,
        'background',
      );
      return computeResults(exp, read, { from: new Date(phaseStartedAt), to: new Date() }, limits, null);
    };
    /** The same results from the phase's minute buckets only (the read before roll-ups). */
    const minutesOnly = async () => {
      const exp = await experimentDoc();
      const docs = await collectionFor(buckets, 'background')
        .find({ project: DEFAULT_PROJECT, exp: KEY, res: { $nin: ['h', 'd'] }, minute: { $gte: start } })
        .toArray();
      const read = latestVersions(docs).map(fromStored);
      return computeResults(exp, read, { from: new Date(phaseStartedAt), to: new Date() }, limits, null);
    };
    const rollups = await repo.phaseRollups(DEFAULT_PROJECT, KEY, start, 'background');
    if (!rollups)
      throw new Error('the phase roll-ups are not established: the results would read the window');
    const readWindow = await repo.bucketsInWindow(
      DEFAULT_PROJECT,
      KEY,
      start,
      Number.MAX_SAFE_INTEGER,
      'background',
    );
    // All three give the same counts (sums may differ in the last digits: they are added in another order).
    const counts = (r: Awaited<ReturnType<typeof rolled>>) =>
      JSON.stringify(r.arms.map((arm) => [arm.arm, arm.exposures, arm.generations, arm.rating.n]));
    const [a, w, b] = [counts(await rolled()), counts(await windowRead()), counts(await minutesOnly())];
    if (a !== b || w !== b)
      throw new Error(`the reads disagree: ${a} (roll-ups) vs ${w} (window) vs ${b} (minutes)`);
    console.log(`per arm [arm, exposures, generations, ratings]: ${a}`);

    const variants = [
      ['rolled', rolled],
      ['window', windowRead],
      ['minutes', minutesOnly],
    ] as const;
    const timings = { rolled: [] as number[], window: [] as number[], minutes: [] as number[] };
    const cpu = { rolled: 0, window: 0, minutes: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, run] of variants) {
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await run();
        timings[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
        const used = process.cpuUsage(cpu0);
        cpu[name] += (used.user + used.system) / 1000 / ROUNDS;
      }
    }
    const p99 = (xs: number[]) =>
      quantile(
        [...xs].sort((x, y) => x - y),
        0.99,
      );
    const [pr, pw, pm] = [p99(timings.rolled), p99(timings.window), p99(timings.minutes)];
    console.log(
      `${ROUNDS} requests each; the results read ${rollups.length} phase roll-ups, the window read ${readWindow.length} ` +
        `day, hour and minute buckets, the minute-only read ${m} (on FerretDB every find scans the whole collection: ` +
        `${m + h + d} buckets here, besides their superseded versions not yet deleted, against ${rollups.length} phase roll-ups)`,
    );
    // The same reads for a busy experiment, where every minute of every (arm, topic, partition) has events.
    const keys = ARMS.length * 3 * PARTITIONS;
    const spans = coverWindow(start, Number.MAX_SAFE_INTEGER).map(({ res, from, to }) =>
      Math.max(0, Math.ceil((Math.min(to, end) - from) / SPAN_MINUTES[res])),
    );
    console.log(
      `with events in every minute of every arm, topic and partition, window=all would read ${keys} phase roll-ups, ` +
        `${keys * spans.reduce((x, y) => x + y, 0)} day, hour and minute buckets, or ${keys * (end - start)} minute buckets`,
    );
    console.log(
      `client CPU per request (decode, merge, statistics; the server's scan excluded): phase roll-ups ${cpu.rolled.toFixed(1)} ms, ` +
        `window ${cpu.window.toFixed(1)} ms, minute-only ${cpu.minutes.toFixed(1)} ms`,
    );
    reportResult({
      measure: `results window=all p99, ${DAYS} days of buckets (phase roll-ups)`,
      value: pr,
      unit: 'ms',
      goal: { op: '<', value: 50 },
    });
    reportResult({ measure: 'results window=all p99, days, hours and edge minutes', value: pw, unit: 'ms' });
    reportResult({
      measure: 'results window=all p99, minute buckets only (baseline)',
      value: pm,
      unit: 'ms',
    });
    reportResult({ measure: 'results p99, minute-only / phase roll-ups', value: pm / pr, unit: 'x' });
    reportResult({
      measure: 'buckets read per request, minute-only / phase roll-ups',
      value: m / rollups.length,
      unit: 'x',
    });
    reportResult({
      measure: 'client CPU per results request, minute-only / phase roll-ups',
      value: cpu.minutes / cpu.rolled,
      unit: 'x',
    });
  } finally {
    await persistence.settled();
    await connection.dropDatabase();
    await connection.close();
  }
}

runBench(main);
