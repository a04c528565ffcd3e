/**
 * Analytics state memory: feeds BENCH_USERS (2,000,000) distinct users, the exposures of one
 * experiment, through the service's ApplyBatchUseCase against the real MongoDB, in a process of its
 * own, and reports that process's peak RSS (goal < 512 MB); then a fresh process builds a new use
 * case on the same database, reloads every partition (one duplicate exposure per partition, as a
 * restarted consumer's first batch would) and reports its RSS (goal < 512 MB) and that each probe
 * was recognised as a duplicate (the reloaded state is exact).
 *
 * Both processes run the sources compiled as the build compiles the services (support/built.ts),
 * under plain `node --enable-source-maps`, as the service's image runs it. The same feeding under
 * `node -r @swc-node/register` (the development path, `npm start`) is measured in the same run for
 * comparison, without a goal: it also holds the TypeScript compiler and its source maps.
 *
 * No Kafka: the messages are built in memory as the platform consumer hands them over (values as
 * Buffers, consecutive offsets per partition), because the broker adds nothing to the state the
 * benchmark measures and would double its time. Batches are what the consumer's 4 MiB per
 * partition fetch holds of these exposures; the users go to BENCH_PARTITIONS (6) partitions in
 * turn, one batch at a time, with event times spread over the last BENCH_SPAN_HOURS (24) hours.
 * User ids are random UUIDs, as SDKs typically send.
 *
 * Run: BENCH_ONLY=analytics-memory npm run bench (BENCH_USERS=200000 for a quick run).
 * Env: MONGODB_URI, BENCH_USERS, BENCH_PARTITIONS, BENCH_SPAN_HOURS.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark drives the service's use case in-process;
   benches are not product code. */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { type ConsumedMessage, createLogger, uuidv7 } from '@llmops/platform';
import { ApplyBatchUseCase } from '../../services/analytics/src/aggregation/apply-batch.usecase';
import { openPersistence } from '../../services/analytics/test/support/persistence';
import {
  experimentEvent,
  exposureEvent,
  type Produced,
} from '../../services/analytics/test/support/scenario';
import { compiled } from './support/built';
import { MONGO, ROOT, runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const USERS = setting('BENCH_USERS', 2_000_000);
const PARTITIONS = setting('BENCH_PARTITIONS', 6);
const SPAN_HOURS = setting('BENCH_SPAN_HOURS', 24);
const FETCH_BYTES = 4 * 1024 * 1024; // the analytics consumer's maxBytesPerPartition
const EXPERIMENT = 'mem-exp';
const ARMS = ['control', 'treatment'];
const MB = 1024 * 1024;

/** A user the reload probes expose again: its partition, arm and the next offset there. */
interface Probe {
  partition: number;
  offset: number;
  userId: string;
  arm: string;
}

interface FeedReport {
  rssBefore: number;
  peakRss: number;
  seconds: number;
  applied: number;
  probes: Probe[];
}

interface ReloadReport {
  rssBefore: number;
  rssAfter: number;
  peakRss: number;
  seconds: number;
  duplicates: number;
}

function message(p: Produced, partition: number, offset: number): ConsumedMessage {
  return {
    topic: 'exposures',
    partition,
    offset: String(offset),
    key: Buffer.from(p.key),
    value: Buffer.from(p.value),
    headers: {},
    timestamp: String(Date.now()),
  };
}

/**
 * The exposure the scenario builds (exposureEvent), as a template filled per user: building each
 * event through createEvent would cost this process more than the use case it measures.
 */
function exposureTemplate(): (arm: string, userId: string, at: Date) => Produced {
  const sample = exposureEvent(EXPERIMENT, 'ARM--', 'USER--', new Date(0));
  const event = JSON.parse(sample.value) as { id: string; time: string; data: { assignedAt: string } };
  const value = sample.value
    .replace(`"${event.id}"`, '"@ID@"')
    .replace(`"time":"${event.time}"`, '"time":"@TIME@"')
    .replace(`"assignedAt":"${event.data.assignedAt}"`, '"assignedAt":"@TIME@"');
  return (arm, userId, at) => {
    const time = at.toISOString();
    return {
      topic: 'x',
      key: `${EXPERIMENT}:${userId}`,
      value: value
        .replace('@ID@', uuidv7(at.getTime()))
        .replaceAll('@TIME@', time)
        .replace('"ARM--"', JSON.stringify(arm))
        .replace('"USER--"', JSON.stringify(userId)),
    };
  };
}

/** A use case as the service builds it, counting outcomes per `type:outcome`. */
function useCaseOn(persistence: Awaited<ReturnType<typeof openPersistence>>, outcomes: Map<string, number>) {
  return new ApplyBatchUseCase(
    persistence.aggregation(),
    persistence.experiments,
    {
      event: (type, outcome, count = 1) =>
        outcomes.set(`${type}:${outcome}`, (outcomes.get(`${type}:${outcome}`) ?? 0) + count),
      commands: () => undefined,
      changed: () => undefined,
    },
    createLogger('bench', 'warn'),
  );
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

/** The fresh process: reload every partition of `db` through a new use case; report to the parent. */
async function reload(db: string, probes: Probe[]): Promise<void> {
  const persistence = await openPersistence(MONGO, db);
  const outcomes = new Map<string, number>();
  const useCase = useCaseOn(persistence, outcomes);
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  for (const p of probes) {
    const event = exposureEvent(EXPERIMENT, p.arm, p.userId, new Date());
    await useCase.execute({
      role: 'exposures',
      partition: p.partition,
      messages: [message(event, p.partition, p.offset)],
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const report: ReloadReport = {
    rssBefore,
    rssAfter: process.memoryUsage().rss,
    peakRss: peakRss(),
    seconds,
    duplicates: outcomes.get('exposure:duplicate') ?? 0,
  };
  process.send?.(report);
  await persistence.settled();
  await persistence.connection.close();
}

/** Runs this benchmark's `role` in a fresh process (`execArgv` and `file`: how it is run); resolves to its report. */
function inChild<T>(file: string, execArgv: string[], env: Record<string, string>): Promise<T> {
  const child = fork(file, [], {
    cwd: ROOT,
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) =>
      reject(new Error(`the benchmark's process exited (${code}) without a report`)),
    );
  });
}

/** The feeding process: every user once, in consumer-sized batches; reports to the parent. */
async function feed(db: string): Promise<void> {
  const persistence = await openPersistence(MONGO, db);
  const outcomes = new Map<string, number>();
  const useCase = useCaseOn(persistence, outcomes);
  const experiment = experimentEvent(
    EXPERIMENT,
    ARMS.map((name) => ({ name, weight: 1 })),
  );
  await useCase.execute({ role: 'experiments', partition: 0, messages: [message(experiment, 0, 0)] });
  const exposure = exposureTemplate();
  const sample = exposure(ARMS[0], randomUUID(), new Date()).value.length;
  const batchSize = Math.floor(FETCH_BYTES / sample);
  const next = Array.from({ length: PARTITIONS }, () => 0);
  const probes: Probe[] = [];
  const rssBefore = process.memoryUsage().rss;
  const spanMs = SPAN_HOURS * 3_600_000;
  const start = Date.now() - spanMs;
  const started = performance.now();
  let fed = 0;
  let reported = 0;
  console.log(
    `feeding ${USERS} distinct users of ${EXPERIMENT} in batches of ${batchSize} (${sample} B exposures, 4 MiB) over ${PARTITIONS} partitions; RSS before ${mb(rssBefore)}`,
  );
  for (let batch = 0; fed < USERS; batch++) {
    const partition = batch % PARTITIONS;
    const n = Math.min(batchSize, USERS - fed);
    const messages: ConsumedMessage[] = [];
    for (let i = 0; i < n; i++) {
      const user = fed + i;
      const userId = randomUUID();
      const arm = ARMS[user % ARMS.length];
      const at = new Date(start + Math.floor((user / USERS) * spanMs));
      messages.push(message(exposure(arm, userId, at), partition, next[partition]++));
      if (probes.length < PARTITIONS && i === 0 && batch === partition) {
        probes.push({ partition, offset: 0, userId, arm });
      }
    }
    await useCase.execute({ role: 'exposures', partition, messages });
    fed += n;
    if (fed >= reported + USERS / 4 || fed === USERS) {
      reported = fed;
      const elapsed = (performance.now() - started) / 1000;
      console.log(
        `  ${fed} users in ${elapsed.toFixed(0)} s (${(fed / elapsed).toFixed(0)}/s): RSS ${mb(process.memoryUsage().rss)}, heap used ${mb(process.memoryUsage().heapUsed)}, peak RSS ${mb(peakRss())}`,
      );
    }
  }
  for (const p of probes) p.offset = next[p.partition];
  const report: FeedReport = {
    rssBefore,
    peakRss: peakRss(),
    seconds: (performance.now() - started) / 1000,
    applied: outcomes.get('exposure:applied') ?? 0,
    probes,
  };
  process.send?.(report);
  await persistence.settled();
  await persistence.connection.close();
}

async function main(): Promise<void> {
  if (process.env.BENCH_RELOAD_DB) {
    return reload(
      process.env.BENCH_RELOAD_DB,
      JSON.parse(process.env.BENCH_RELOAD_PROBES ?? '[]') as Probe[],
    );
  }
  if (process.env.BENCH_FEED_DB) return feed(process.env.BENCH_FEED_DB);
  const built = compiled([
    'test/bench/analytics-memory.bench.ts',
    'test/bench/support',
    'services/analytics/src',
    'services/analytics/test/support',
    'libs',
    'deploy/local/src',
  ]);
  const asBuilt: [string, string[]] = [built, ['--enable-source-maps']];
  const development: [string, string[]] = [__filename, ['-r', '@swc-node/register']];
  const db = `bench_mem_${randomBytes(3).toString('hex')}`;
  const dev = `${db}_dev`;
  try {
    console.log('built JavaScript (node --enable-source-maps):');
    const fed = await inChild<FeedReport>(...asBuilt, { BENCH_FEED_DB: db });
    if (fed.applied !== USERS) throw new Error(`${fed.applied} exposures applied, want ${USERS}`);
    const reloaded = await inChild<ReloadReport>(...asBuilt, {
      BENCH_RELOAD_DB: db,
      BENCH_RELOAD_PROBES: JSON.stringify(fed.probes),
    });
    console.log(
      `a fresh process reloaded ${PARTITIONS} partitions in ${reloaded.seconds.toFixed(1)} s: RSS ${mb(reloaded.rssBefore)} before, ${mb(reloaded.rssAfter)} after, peak ${mb(reloaded.peakRss)}; ${reloaded.duplicates} of ${fed.probes.length} probes recognised as duplicates`,
    );
    if (reloaded.duplicates !== fed.probes.length) {
      throw new Error(`the reloaded state missed ${fed.probes.length - reloaded.duplicates} known users`);
    }
    console.log('the development path (node -r @swc-node/register), for comparison:');
    const devFed = await inChild<FeedReport>(...development, { BENCH_FEED_DB: dev });
    reportResult({
      measure: `peak RSS feeding ${USERS} distinct users`,
      value: fed.peakRss / MB,
      unit: 'MB',
      goal: { op: '<', value: 512 },
    });
    reportResult({
      measure: 'RSS after a fresh process reloaded the partitions',
      value: reloaded.rssAfter / MB,
      unit: 'MB',
      goal: { op: '<', value: 512 },
    });
    reportResult({
      measure: `peak RSS feeding ${USERS} distinct users, under @swc-node/register`,
      value: devFed.peakRss / MB,
      unit: 'MB',
    });
  } finally {
    for (const name of [db, dev]) {
      const persistence = await openPersistence(MONGO, name);
      await persistence.connection.dropDatabase();
      await persistence.connection.close();
    }
  }
}

runBench(main);
