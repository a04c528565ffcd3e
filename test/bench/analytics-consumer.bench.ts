/**
 * Analytics consumer benchmarks, each figure measured in one run against the local Kafka and
 * MongoDB and printed next to its goal:
 *  1. throughput of the aggregation consumer (the service's ApplyBatchUseCase behind the platform
 *     BatchConsumer) against a bare kafkajs eachBatch that JSON.parses every value and discards it,
 *     on the same events, both measured alike (goal >= 0.4x): each side first runs one round that
 *     is not counted (V8 compiles its code), then BENCH_ROUNDS rounds, the two sides' rounds in
 *     turn, each a fresh consumer group (and, for the aggregation, a fresh database); a side's rate
 *     is the median of its counted rounds. Printed for information: the aggregation's uncounted
 *     first round, in a process that has not run its code yet (what a replica's start costs), a
 *     bare eachBatch that only discards, and for each round of the aggregation the CPU its parts
 *     used (support/harness.ts cpuSplit: this process's main thread and its other threads, the
 *     local database and broker), against the wall time and the cores;
 *  2. storage writes at steady state (after the first 10% of the events of the first round), from
 *     the driver's command monitoring: documents written per event (insert `documents`, update
 *     `updates`, delete `deletes`; goal <= 0.05) and MongoDB commands per 100 events (goal <= 1);
 *  3. freshness: feedback produced -> visible in the results use case, p99 while background events
 *     arrive at 50% of the aggregation's throughput in 1 (the higher of its first round and its
 *     rounds' median), produced by a process of its own
 *     (support/analytics-load-generator.ts) as other services would (goal < 1 s), with where the
 *     time goes. Probes go one at a time for BENCH_FRESHNESS_SECONDS: 60 s gives about 140, so
 *     the p99 is not just the largest of a few dozen;
 *  4. scale-out, reported without a goal: the same events consumed by 1 and then 2 replicas, each
 *     in a process of its own (support/analytics-consumer-worker.ts), their combined throughput and
 *     the partitions the group assigned each replica.
 * Run: BENCH_ONLY=analytics-consumer npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI, BENCH_EVENTS (20000), BENCH_FRESHNESS_SECONDS (60),
 * BENCH_ROUNDS (5: counted rounds of each side in 1), BENCH_REPLICAS (2).
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark drives the service's use case in-process
   to count MongoDB commands with the driver's command monitoring; benches are not product code. */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TOPICS, topicName } from '@llmops/contracts';
import { type EachBatchPayload, Kafka, logLevel, type Producer } from 'kafkajs';
import type { mongo } from 'mongoose';
import { GetResultsUseCase } from '../../services/analytics/src/results/get-results.usecase';
import { openPersistence } from '../../services/analytics/test/support/persistence';
import {
  createTopics,
  feedbackEvent,
  groupLag,
  mixedScenario,
  type Produced,
  produce,
  topicsFor,
} from '../../services/analytics/test/support/scenario';
import { groupAssignment, OffsetTally, startAnalyticsConsumer } from './support/analytics-consumer';
import type { WorkerReport } from './support/analytics-consumer-worker';
import type { LoadReport } from './support/analytics-load-generator';
import {
  type CpuSplit,
  cpuSplit,
  describeCpuSplit,
  hostBusySince,
  hostCpu,
  KAFKA,
  median,
  MONGO,
  quantile,
  ROOT,
  runBench,
  setting,
  waitUntil,
} from './support/harness';
import { reportResult } from './support/result';

const EVENTS = setting('BENCH_EVENTS', 20_000);
const FRESHNESS_SECONDS = setting('BENCH_FRESHNESS_SECONDS', 60);
const ROUNDS = Math.max(1, setting('BENCH_ROUNDS', 5));
const REPLICAS = setting('BENCH_REPLICAS', 2);
/** How often a freshness probe reads the results: bounds what it adds to a measured latency. */
const PROBE_POLL_MS = 20;
const STEADY_FROM = 0.1;

/**
 * Documents a write command writes or deletes: what the storage-writes goal counts. An insert's
 * `documents`, an update's `updates`; a delete's statements, each counted as the ids of its
 * `{ _id: { $in } }` filter when it has one (else 1: the benchmark's consumer deletes by id only).
 */
function documentsWritten(e: mongo.CommandStartedEvent): number {
  const c = e.command as Record<string, unknown>;
  const list =
    e.commandName === 'insert'
      ? c.documents
      : e.commandName === 'update'
        ? c.updates
        : e.commandName === 'delete'
          ? c.deletes
          : undefined;
  if (!Array.isArray(list)) return 0;
  if (e.commandName !== 'delete') return list.length;
  return list.reduce((sum: number, d: { q?: { _id?: { $in?: unknown } } }) => {
    const ids = d.q?._id?.$in;
    return sum + (Array.isArray(ids) ? ids.length : 1);
  }, 0);
}

/**
 * One round of a bare kafkajs consumer of `total` events over `topics` in group `group` (fresh)
 * running `each` on every message: events/s from its first batch to the end of the batch that
 * completes the count.
 */
async function bareRound(
  kafka: Kafka,
  group: string,
  topics: string[],
  total: number,
  each: (value: Buffer | null) => void,
): Promise<number> {
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let start = 0;
  let end = 0;
  await consumer.run({
    eachBatch: async ({ batch }: EachBatchPayload) => {
      if (start === 0) start = performance.now();
      for (const m of batch.messages) each(m.value);
      seen += batch.messages.length;
      if (seen >= total && end === 0) end = performance.now();
    },
  });
  await waitUntil(async () => end > 0, `bare consumer ${group}`, { timeoutMs: 120_000, intervalMs: 50 });
  await consumer.disconnect();
  return total / ((end - start) / 1000);
}

/**
 * Deletes the topics this run created (their names start with `id`). Each run creates some hundred
 * partitions; left behind, runs add up until the local broker fails for lack of file handles.
 */
async function deleteRunTopics(kafka: Kafka, id: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(id));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Records the topics of `prefix` hold (high - low watermarks): a producer retry on a busy host can
 * store a record twice, and every consumer then reads both.
 */
async function recordsIn(kafka: Kafka, prefix: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let n = 0;
    for (const topic of Object.values(topicsFor(prefix))) {
      for (const p of await admin.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
    }
    return n;
  } finally {
    await admin.disconnect();
  }
}

/** A process of its own running `support/<script>`, with an IPC channel, the broker and `env`. */
function forkSupport(script: string, env: Record<string, string>): ChildProcess {
  return fork(path.join(__dirname, 'support', script), [], {
    cwd: ROOT,
    execArgv: ['-r', '@swc-node/register'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KAFKA_BROKERS: KAFKA,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * The freshness phase's background events at `rate` events/s, produced by a process of its own
 * (support/analytics-load-generator.ts) so that building and producing them does not share the
 * measured consumer's event loop. `stop` ends it and answers what the broker acknowledged.
 */
async function startLoad(
  prefix: string,
  rate: number,
  seconds: number,
): Promise<{ check: () => void; stop: () => Promise<LoadReport> }> {
  const child = forkSupport('analytics-load-generator.ts', {
    BENCH_PREFIX: prefix,
    BENCH_RATE: String(rate),
    BENCH_SECONDS: String(seconds),
    BENCH_SEED: '9',
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited (${code})`));
      child.once('exit', onExit);
      const onMessage = (msg: { type?: string }): void => {
        if (msg.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(msg as T);
      };
      child.on('message', onMessage);
    });
  await next('started');
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  // Probes against a consumer that no load reaches would measure something else: stop at once.
  const check = (): void => {
    if (exited !== undefined)
      throw new Error(`load generator exited (${exited}) before the freshness phase ended`);
  };
  return {
    check,
    stop: async () => {
      check();
      const stopped = next<LoadReport>('stopped');
      child.send('stop');
      return stopped;
    },
  };
}

/**
 * One counted round of the aggregation consumer on the same `total` events, in this process, a
 * fresh consumer group on a fresh database: events/s counted as its first round and the baseline's
 * rounds count them, and the CPU the round's parts used.
 */
async function aggregationRound(
  kafka: Kafka,
  prefix: string,
  id: string,
  total: number,
  round: number,
): Promise<{ rate: number; cpu: string }> {
  const persistence = await openPersistence(MONGO, `bench_${id}_round${round}`);
  const tally = new OffsetTally();
  let start = 0;
  let end = 0;
  let cpuAtStart: CpuSplit | undefined;
  let cpuAtEnd: CpuSplit | undefined;
  const consumer = await startAnalyticsConsumer({
    kafka,
    prefix,
    groupId: `${id}-agg${round}`,
    persistence,
    before: () => {
      if (start !== 0) return;
      start = performance.now();
      cpuAtStart = cpuSplit();
    },
    after: (messages, ctx) => {
      tally.add(ctx, messages);
      if (tally.distinct < total || end !== 0) return;
      end = performance.now();
      cpuAtEnd = cpuSplit();
    },
  });
  await waitUntil(async () => end > 0, `aggregation counted round ${round}`, {
    timeoutMs: 600_000,
    intervalMs: 50,
  });
  await consumer.stop();
  await persistence.settled();
  await persistence.connection.dropDatabase();
  await persistence.connection.close();
  return { rate: total / ((end - start) / 1000), cpu: describeCpuSplit(cpuAtStart, cpuAtEnd, end - start) };
}

interface ScaleRun {
  replicas: number;
  prefix: string;
  rate: number;
  reports: WorkerReport[];
  assignment: Awaited<ReturnType<typeof groupAssignment>>;
  host: string;
}

/**
 * `replicas` consumer replicas, each a process of its own, on fresh topics holding `events` and a
 * database of their own; their group's assigner assigns nothing until all have joined. Combined
 * events/s from the first handler call of any replica to the end of the last one's.
 */
async function scaleOut(
  kafka: Kafka,
  producer: Producer,
  id: string,
  events: Produced[],
  replicas: number,
): Promise<ScaleRun> {
  const prefix = `${id}r${replicas}.`;
  const group = `${id}-r${replicas}`;
  const db = `bench_${id}_r${replicas}`;
  await createTopics(kafka, prefix);
  await produce(producer, prefix, events);
  const records = await recordsIn(kafka, prefix);
  // Boot the schema (migrations, indexes) once, before the replicas race to do it.
  const persistence = await openPersistence(MONGO, db);
  const workers = Array.from({ length: replicas }, (_, i) =>
    forkSupport('analytics-consumer-worker.ts', {
      MONGODB_URI: MONGO,
      BENCH_PREFIX: prefix,
      BENCH_GROUP: group,
      BENCH_DB: db,
      BENCH_REPLICAS: String(replicas),
      BENCH_CLIENT_ID: `replica-${i + 1}`,
    }),
  );
  const ask = (w: (typeof workers)[number]): Promise<WorkerReport> =>
    new Promise((resolve) => {
      const on = (msg: WorkerReport): void => {
        if (msg.type !== 'report') return;
        w.off('message', on);
        resolve(msg);
      };
      w.on('message', on);
      w.send('report');
    });
  try {
    const host = hostCpu();
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            w.on('message', (msg: { type?: string }) => msg.type === 'started' && resolve());
            w.once('exit', (code) =>
              reject(new Error(`replica ${i + 1} exited (${code}) before it started`)),
            );
          }),
      ),
    );
    // Asked over IPC: polling the broker's offsets this often would load the host being measured.
    await waitUntil(
      async () => (await Promise.all(workers.map(ask))).reduce((n, r) => n + r.events, 0) >= records,
      `${replicas} replica(s)`,
      { timeoutMs: 600_000, intervalMs: 100 },
    );
    const busy = hostBusySince(host);
    await waitUntil(async () => (await groupLag(kafka, group, prefix)) === 0, 'replicas committed', {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const assignment = await groupAssignment(kafka, group);
    const reports = await Promise.all(workers.map(ask));
    const active = reports.filter((r) => r.firstAt > 0);
    const first = Math.min(...active.map((r) => r.firstAt));
    const last = Math.max(...active.map((r) => r.lastAt));
    return {
      replicas,
      prefix,
      rate: records / ((last - first) / 1000),
      reports,
      assignment,
      host: busy,
    };
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.kill('SIGKILL'), 30_000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.send('stop');
          }),
      ),
    );
    await persistence.connection.dropDatabase();
    await persistence.connection.close();
  }
}

function describeScale(run: ScaleRun): void {
  console.log(`${run.replicas} replica(s): ${run.rate.toFixed(0)} events/s combined${run.host}`);
  for (const r of [...run.reports].sort((a, b) => a.clientId.localeCompare(b.clientId))) {
    const assigned = run.assignment.find((a) => a.clientId === r.clientId)?.partitions ?? {};
    const perTopic = Object.entries(assigned)
      .map(
        ([topic, parts]) =>
          `${topic.slice(run.prefix.length)} [${[...parts].sort((a, b) => a - b).join(',')}]`,
      )
      .join(', ');
    const count = Object.values(assigned).reduce((n, parts) => n + parts.length, 0);
    const seconds = (r.lastAt - r.firstAt) / 1000;
    console.log(
      `  ${r.clientId}: ${count} partitions assigned (${perTopic || 'none'}), ${r.handled.length} handled; ${r.events} events in ${seconds.toFixed(2)} s` +
        ` (${(r.events / Math.max(seconds, 1e-3)).toFixed(0)}/s, ${r.redelivered} redelivered), cpu ${(r.cpuMicros / Math.max(1, r.events)).toFixed(0)} µs/event`,
    );
  }
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const id = `bench${randomBytes(3).toString('hex')}`;
  const kafka = new Kafka({ brokers: KAFKA.split(','), clientId: id, logLevel: logLevel.NOTHING });
  try {
    await measure(kafka, id);
  } finally {
    await deleteRunTopics(kafka, id);
  }
}

/** The whole benchmark, on topics whose names start with `id`. */
async function measure(kafka: Kafka, id: string): Promise<void> {
  const prefix = `${id}.`;
  await createTopics(kafka, prefix);
  const producer = kafka.producer();
  await producer.connect();
  const scenario = mixedScenario('bench-exp', EVENTS, 5);
  await produce(producer, prefix, scenario.events);
  const total = await recordsIn(kafka, prefix);
  const topics = Object.values(topicsFor(prefix));
  const feedbackTopic = topicName(TOPICS.feedback, prefix);
  console.log(`produced ${scenario.events.length} mixed events to ${prefix}* (${total} records stored)`);

  // 1) Bare kafkajs eachBatch over the same events: discarding (for information; one uncounted
  // round, then the median of ROUNDS), then the baseline's uncounted round. Its counted rounds
  // alternate with the aggregation's below, so a drift in the host's load reaches both sides.
  const discard = async (round: number): Promise<number> =>
    bareRound(kafka, `${id}-discard-${round}`, topics, total, () => undefined);
  await discard(0);
  const discardRates: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) discardRates.push(await discard(round));
  const discardRate = median(discardRates);
  let parsed = 0;
  const parse = async (round: number): Promise<number> =>
    bareRound(kafka, `${id}-parse-${round}`, topics, total, (value) => {
      if (value && JSON.parse(value.toString()) !== null) parsed++;
    });
  await parse(0);

  // 1, 2) Ours, with the driver's command monitoring counting commands and documents written.
  const persistence = await openPersistence(MONGO, `bench_${id}`, { monitorCommands: true });
  const steady = {
    on: false,
    events: 0,
    commands: 0,
    documents: 0,
    byName: new Map<string, number>(),
    /** Documents written, by command and collection. */
    written: new Map<string, number>(),
  };
  persistence.connection.getClient().on('commandStarted', (e: mongo.CommandStartedEvent) => {
    if (!steady.on) return;
    steady.commands++;
    const written = documentsWritten(e);
    steady.documents += written;
    steady.byName.set(e.commandName, (steady.byName.get(e.commandName) ?? 0) + 1);
    if (written > 0) {
      const key = `${e.commandName} ${String(e.command[e.commandName])}`;
      steady.written.set(key, (steady.written.get(key) ?? 0) + written);
    }
  });
  const processed = new OffsetTally();
  let ourStart = 0;
  let ourEnd = 0;
  // CPU by thread and process over the first round: where a process that has not run its code
  // yet spends it, beside the database and the broker on the same cores.
  let ourCpuAtStart: CpuSplit | undefined;
  let ourCpuAtEnd: CpuSplit | undefined;
  // Freshness probes: when the batch carrying probe n started and finished in the handler.
  const probeKey = (n: number): string => `probe-r${n}`;
  const probeHandled = new Map<string, { start: number; end: number }>();
  let probing = false;
  // Every batch handled during the freshness phase: what paces the consumer.
  const paced: Array<{ start: number; end: number; events: number }> = [];
  const probesIn = (messages: { key: Buffer | null }[]): string[] =>
    messages.map((m) => m.key?.toString() ?? '').filter((k) => k.startsWith('probe-r'));
  const consumer = await startAnalyticsConsumer({
    kafka,
    prefix,
    groupId: `${id}-agg`,
    persistence,
    before: (messages) => {
      if (ourStart === 0) {
        ourStart = performance.now();
        ourCpuAtStart = cpuSplit();
      }
      // Steady state: batches that start after the first 10% (the partition loads) of the backlog.
      if (ourEnd === 0 && processed.distinct >= total * STEADY_FROM) steady.on = true;
      if (steady.on) steady.events += messages.length;
    },
    after: (messages, ctx, started) => {
      processed.add(ctx, messages);
      if (processed.distinct >= total && ourEnd === 0) {
        ourEnd = performance.now();
        ourCpuAtEnd = cpuSplit();
        steady.on = false; // the freshness phase reads on purpose: not counted
      }
      if (!probing) return;
      const end = performance.now();
      paced.push({ start: started, end, events: messages.length });
      if (ctx.topic === feedbackTopic) {
        for (const k of probesIn(messages)) probeHandled.set(k, { start: started, end });
      }
    },
  });
  // A local check: polling the broker's offsets this often would load the process being measured.
  await waitUntil(async () => ourEnd > 0, 'aggregation consumer', { timeoutMs: 600_000, intervalMs: 50 });
  await waitUntil(async () => (await groupLag(kafka, `${id}-agg`, prefix)) === 0, 'aggregation committed', {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  const ourRate = total / ((ourEnd - ourStart) / 1000);
  // The counted rounds, the baseline's and the aggregation's in turn. Before the freshness phase:
  // the topics hold the measured events only.
  const parseRates: number[] = [];
  const later: Array<{ rate: number; cpu: string }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    parseRates.push(await parse(round));
    later.push(await aggregationRound(kafka, prefix, id, total, round));
  }
  if (parsed !== total * (ROUNDS + 1)) throw new Error(`bare parse saw ${parsed} values`);
  const parseRate = median(parseRates);
  const roundsRate = median(later.map((r) => r.rate));

  // 3) Freshness at 50% of our throughput: background events + probes, one at a time.
  const results = new GetResultsUseCase(
    persistence.aggregation(),
    persistence.experiments,
    persistence.decisions,
    {
      ANALYTICS_MIN_PER_ARM: 200,
      ANALYTICS_RECOMMENDED_PER_ARM: 500,
    },
  );
  // A read past the API's request deadline fails as the API would; the probe reads again.
  let readsFailed = 0;
  const ratingsN = async (): Promise<number> => {
    const t = performance.now();
    try {
      const r = await results.execute('default', 'bench-exp', { window: 'all' });
      reads.push(performance.now() - t);
      return r.arms.find((a) => a.arm === 'control')!.rating.n;
    } catch (err) {
      readsFailed++;
      throw err;
    }
  };
  const reads: number[] = [];
  // Half of what the consumer reaches: its rounds' median (or its first round, if higher).
  const backgroundRate = Math.max(ourRate, roundsRate) * 0.5;
  const load = await startLoad(prefix, backgroundRate, FRESHNESS_SECONDS + 5);
  const probes: Array<{ total: number; ack: number; fetch: number; handler: number; visible: number }> = [];
  const freshnessEnd = Date.now() + FRESHNESS_SECONDS * 1000;
  probing = true;
  for (let n = 0; Date.now() < freshnessEnd; n++) {
    load.check();
    let before = 0;
    await waitUntil(
      async () => {
        before = await ratingsN();
        return true;
      },
      'results',
      { timeoutMs: 30_000, intervalMs: PROBE_POLL_MS },
    );
    const t0 = performance.now();
    await produce(producer, prefix, [
      feedbackEvent({
        feedbackId: `probe-${n}`,
        requestId: probeKey(n),
        experiment: 'bench-exp',
        arm: 'control',
        rating: 3,
        revision: 1,
        edit: null,
        at: new Date(),
      }),
    ]);
    const acked = performance.now();
    await waitUntil(
      async () => {
        return (await ratingsN()) > before;
      },
      'freshness probe',
      { timeoutMs: 30_000, intervalMs: PROBE_POLL_MS },
    );
    const visible = performance.now();
    const h = probeHandled.get(probeKey(n)) ?? { start: visible, end: visible };
    probes.push({
      total: visible - t0,
      ack: acked - t0,
      fetch: h.start - acked,
      handler: h.end - h.start,
      visible: visible - h.end,
    });
  }
  probing = false;
  const loaded = await load.stop();
  const offered = loaded.produced / loaded.seconds;
  await consumer.stop();
  await persistence.settled();
  await persistence.connection.dropDatabase();
  await persistence.connection.close();

  // 4) Scale-out: 1 replica, then REPLICAS replicas, each in a process of its own.
  const single = await scaleOut(kafka, producer, id, scenario.events, 1);
  const scaled = REPLICAS > 1 ? await scaleOut(kafka, producer, id, scenario.events, REPLICAS) : undefined;
  await producer.disconnect();

  const sorted = (f: (p: (typeof probes)[number]) => number): number[] => probes.map(f).sort((a, b) => a - b);
  const at = (f: (p: (typeof probes)[number]) => number): string =>
    `p50 ${quantile(sorted(f), 0.5).toFixed(0)} / p99 ${quantile(sorted(f), 0.99).toFixed(0)} ms`;
  console.log('\n== analytics consumer benchmark ==');
  console.log(
    `events: ${total} mixed (exposures, generations, feedback incl. edits/duplicates); host load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log(
    `each side: 1 round not counted, then the median of ${ROUNDS} round(s), the two sides' rounds in turn (a fresh consumer group each)`,
  );
  console.log(`bare kafkajs eachBatch, discard     : ${discardRate.toFixed(0)} events/s (for information)`);
  console.log(`bare kafkajs eachBatch + JSON.parse : ${parseRate.toFixed(0)} events/s (the baseline)`);
  console.log(
    `analytics aggregation consumer      : ${roundsRate.toFixed(0)} events/s, ${(roundsRate / parseRate).toFixed(2)}x the baseline; rounds ${later.map((r) => r.rate.toFixed(0)).join(', ')} events/s (the baseline's: ${parseRates.map((r) => r.toFixed(0)).join(', ')})`,
  );
  console.log(
    `  first round (not counted)         : ${ourRate.toFixed(0)} events/s (${((ourEnd - ourStart) / 1000).toFixed(2)} s, ${processed.redelivered} records redelivered), ${(ourRate / parseRate).toFixed(2)}x the baseline, in a process that had not run its code`,
  );
  console.log(
    `  first round, CPU                  : ${describeCpuSplit(ourCpuAtStart, ourCpuAtEnd, ourEnd - ourStart)}`,
  );
  later.forEach((r, i) => console.log(`${`  counted round ${i + 1}, CPU`.padEnd(36)}: ${r.cpu}`));
  console.log(
    `steady state (after the first ${STEADY_FROM * 100}%)    : ${steady.events} events, ${steady.commands} commands (${[...steady.byName].map(([k, v]) => `${k} ${v}`).join(', ')}), ${steady.documents} documents written (${[...steady.written].map(([k, v]) => `${k} ${v}`).join(', ')})`,
  );
  const readsSorted = [...reads].sort((a, b) => a - b);
  console.log(
    `freshness at ${offered.toFixed(0)} events/s offered (${probes.length} probes): total ${at((p) => p.total)}; ` +
      `produce ack ${at((p) => p.ack)}, ack -> handler ${at((p) => p.fetch)}, handler ${at((p) => p.handler)}, ` +
      `handler -> visible ${at((p) => p.visible)}; a results read p50 ${quantile(readsSorted, 0.5).toFixed(0)} / p99 ${quantile(readsSorted, 0.99).toFixed(0)} ms (polled every ${PROBE_POLL_MS} ms; ${readsFailed} past the request deadline)`,
  );
  // Handler calls may overlap (the service's consumer applies several partition numbers at once).
  const byStart = [...paced].sort((a, b) => a.start - b.start);
  const span = (Math.max(...byStart.map((b) => b.end)) - byStart[0].start) / 1000;
  let busy = 0;
  let coveredTo = byStart[0].start;
  for (const b of byStart) {
    busy += Math.max(0, b.end - Math.max(b.start, coveredTo));
    coveredTo = Math.max(coveredTo, b.end);
  }
  const handlerMs = byStart.map((b) => b.end - b.start);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    `consumer pacing during freshness    : ${(byStart.length / span).toFixed(1)} batches/s of ${mean(byStart.map((b) => b.events)).toFixed(0)} events on average; ` +
      `handler mean ${mean(handlerMs).toFixed(1)} ms; a handler running ${((100 * busy) / (span * 1000)).toFixed(0)}% of the time, ` +
      `${(handlerMs.reduce((a, b) => a + b, 0) / (span * 1000)).toFixed(2)} on average`,
  );
  describeScale(single);
  if (scaled) describeScale(scaled);
  reportResult({
    measure: 'consumer events/s, ours/bare kafkajs eachBatch + JSON.parse, medians of the counted rounds',
    value: roundsRate / parseRate,
    goal: { op: '>=', value: 0.4 },
  });
  reportResult({
    measure: 'documents written per event, steady state',
    value: steady.documents / Math.max(1, steady.events),
    unit: '',
    goal: { op: '<=', value: 0.05 },
  });
  reportResult({
    measure: 'MongoDB commands per 100 events, steady state',
    value: (steady.commands / Math.max(1, steady.events)) * 100,
    unit: '',
    goal: { op: '<=', value: 1 },
  });
  reportResult({
    measure: 'freshness feedback -> results at 50% load, p99',
    value: quantile(
      sorted((p) => p.total),
      0.99,
    ),
    unit: 'ms',
    goal: { op: '<', value: 1000 },
  });
  reportResult({
    measure: 'consumer events/s, its first round (a process that had not run its code) / baseline',
    value: ourRate / parseRate,
  });
  if (scaled) {
    reportResult({
      measure: `${REPLICAS} replicas, combined events/s`,
      value: scaled.rate,
      unit: 'events/s',
    });
    reportResult({ measure: `${REPLICAS} replicas / 1 replica, events/s`, value: scaled.rate / single.rate });
  }
}

runBench(main);
