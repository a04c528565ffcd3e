/**
 * Analytics state memory: feeds BENCH_USERS (2,000,000) distinct users, the exposures of one
 * experiment, then BENCH_REQUESTS (2,000,000) distinct requests, generations placed in its arms,
 * through the service's ApplyBatchUseCase against the real MongoDB, in a process of its own, and
 * reports that process's peak RSS once the users are fed (goal < 512 MB) and once the requests are
 * too (reported, with the RSS they added per million); then a fresh process builds a new use case on the
 * same database, reloads every partition (one duplicate exposure per partition, as a restarted
 * consumer's first batch would, then one feedback per partition on a request fed before) and
 * reports its RSS (goal < 512 MB), that each exposure probe was recognised as a duplicate and that
 * each feedback probe was applied, not parked: its request was known (the reloaded state is exact).
 * Last, the retention phase: a process of its own feeds BENCH_REQUESTS requests alone, a quarter per
 * horizon of the request retention (ANALYTICS_REQUEST_RETENTION_HOURS, the service's default), the
 * clock the use case reads moved one horizon after each quarter; it reports the requests held after
 * each quarter (the run fails unless the last two quarters, exactly, are held at the end) and its peak
 * RSS. It needs a batch per partition and horizon, and is skipped for a smaller BENCH_REQUESTS.
 *
 * Both processes run the sources compiled as the build compiles the services (support/built.ts),
 * under plain `node --enable-source-maps`, as the service's image runs it. The same feeding under
 * `node -r @swc-node/register` (the development path, `npm start`) is measured in the same run for
 * comparison, without a goal: it also holds the TypeScript compiler and its source maps.
 *
 * No Kafka: the messages are built in memory as the platform consumer hands them over (values as
 * Buffers, consecutive offsets per partition), because the broker adds nothing to the state the
 * benchmark measures and would double its time. Batches are what the consumer's 4 MiB per
 * partition fetch holds of these events; the users, then the requests, go to BENCH_PARTITIONS (6)
 * partitions in turn, one batch at a time, with event times spread over the last BENCH_SPAN_HOURS
 * (24) hours. The development path feeds the users only.
 * User and request ids are random UUIDs, as SDKs typically send.
 *
 * Run: BENCH_ONLY=analytics-memory npm run bench (BENCH_USERS=200000 BENCH_REQUESTS=200000 for a
 * quick run).
 * Env: MONGODB_URI, BENCH_USERS, BENCH_REQUESTS, BENCH_PARTITIONS, BENCH_SPAN_HOURS.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark drives the service's use case in-process;
   benches are not product code. */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { type ConsumedMessage, uuidv7 } from '@llmops/platform';
import { loadAnalyticsConfig } from '../../services/analytics/src/config/analytics.config';
import { openPersistence } from '../../services/analytics/test/support/persistence';
import {
  experimentEvent,
  exposureEvent,
  feedbackEvent,
  generationEvent,
  type Produced,
} from '../../services/analytics/test/support/scenario';
import { consumedMessage, recordingUseCase } from '../../services/analytics/test/support/use-case';
import { compiled } from './support/built';
import { MONGO, ROOT, runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const USERS = setting('BENCH_USERS', 2_000_000);
const REQUESTS = setting('BENCH_REQUESTS', 2_000_000);
const PARTITIONS = setting('BENCH_PARTITIONS', 6);
const SPAN_HOURS = setting('BENCH_SPAN_HOURS', 24);
const FETCH_BYTES = 4 * 1024 * 1024; // the analytics consumer's maxBytesPerPartition
const EXPERIMENT = 'mem-exp';
const ARMS = ['control', 'treatment'];
const MB = 1024 * 1024;
/** The service's default configuration (its request retention). */
const CONFIG = loadAnalyticsConfig({});
const RETENTION_MS = CONFIG.ANALYTICS_REQUEST_RETENTION_HOURS * 3_600_000;
/** Horizons of the request retention the retention phase feeds its requests over. */
const HORIZONS = 4;

/** A user the reload probes expose again: its partition, arm and the next offset there. */
interface Probe {
  partition: number;
  offset: number;
  userId: string;
  arm: string;
}

/** A request the reload probes give feedback on, and its partition. */
interface RequestProbe {
  partition: number;
  requestId: string;
}

type Role = 'exposures' | 'generations' | 'feedback';

interface FeedReport {
  rssBefore: number;
  /** Peak RSS once the users were fed, before the requests. */
  peakRssUsers: number;
  peakRss: number;
  seconds: number;
  applied: number;
  generated: number;
  probes: Probe[];
  requestProbes: RequestProbe[];
  /** The retention phase: requests held after each horizon's requests, and the RSS then. */
  horizons: Array<{ held: number; rss: number }>;
}

interface ReloadReport {
  rssBefore: number;
  rssAfter: number;
  peakRss: number;
  seconds: number;
  duplicates: number;
  /** Feedback probes applied at once: their request was known (none parked). */
  attributed: number;
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

/** The generation the scenario builds (generationEvent), as a template filled per request. */
function generationTemplate(): (arm: string, requestId: string, at: Date) => Produced {
  const sample = generationEvent('REQ--', EXPERIMENT, 'ARM--', new Date(0), 420, 0.002, [300, 120]);
  const event = JSON.parse(sample.value) as { id: string; time: string };
  const value = sample.value
    .replace(`"${event.id}"`, '"@ID@"')
    .replaceAll(new Date(0).toISOString(), '@TIME@')
    .replace(`"time":"${event.time}"`, '"time":"@TIME@"');
  return (arm, requestId, at) => ({
    topic: 'g',
    key: requestId,
    value: value
      .replace('@ID@', uuidv7(at.getTime()))
      .replaceAll('@TIME@', at.toISOString())
      .replace('"ARM--"', JSON.stringify(arm))
      .replace('"REQ--"', JSON.stringify(requestId)),
  });
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

/** The fresh process: reload every partition of `db` through a new use case; report to the parent. */
async function reload(db: string, probes: Probe[], requestProbes: RequestProbe[]): Promise<void> {
  const persistence = await openPersistence(MONGO, db);
  const { useCase, counts: outcomes } = recordingUseCase(persistence, 'bench');
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  for (const p of probes) {
    const event = exposureEvent(EXPERIMENT, p.arm, p.userId, new Date());
    await useCase.execute({
      role: 'exposures',
      partition: p.partition,
      messages: [consumedMessage(event, p.partition, p.offset)],
    });
  }
  for (const [i, p] of requestProbes.entries()) {
    const event = feedbackEvent({
      feedbackId: `probe-${i}`,
      requestId: p.requestId,
      revision: 1,
      edit: null,
      rating: 4,
      at: new Date(),
    });
    await useCase.execute({
      role: 'feedback',
      partition: p.partition,
      messages: [consumedMessage(event, p.partition, 0)],
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const report: ReloadReport = {
    rssBefore,
    rssAfter: process.memoryUsage().rss,
    peakRss: peakRss(),
    seconds,
    duplicates: outcomes.get('exposure:duplicate') ?? 0,
    attributed: outcomes.get('feedback:applied') ?? 0,
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

/** The feeding process: every user once, then every request once, in consumer-sized batches; reports to the parent. */
async function feed(db: string): Promise<void> {
  const persistence = await openPersistence(MONGO, db);
  const { useCase, counts: outcomes, requests: held } = recordingUseCase(persistence, 'bench');
  const experiment = experimentEvent(
    EXPERIMENT,
    ARMS.map((name) => ({ name, weight: 1 })),
  );
  await useCase.execute({ role: 'experiments', partition: 0, messages: [consumedMessage(experiment, 0, 0)] });
  const probes: Probe[] = [];
  const requestProbes: RequestProbe[] = [];
  const rssBefore = process.memoryUsage().rss;
  const spanMs = SPAN_HOURS * 3_600_000;
  const start = Date.now() - spanMs;
  const started = performance.now();
  console.log(`RSS before ${mb(rssBefore)}`);

  /**
   * Feeds `total` events of `role`, the i-th built by `build(arm, id, at)` for a fresh random id,
   * in batches of what the consumer's fetch holds, to the partitions in turn (offsets consecutive
   * per partition, from `next`: 0 unless given); `probe` sees each partition's first id.
   */
  const feedAll = async (
    role: Role,
    what: string,
    total: number,
    build: (arm: string, id: string, at: Date) => Produced,
    probe: (partition: number, id: string, arm: string) => void,
    next = Array.from({ length: PARTITIONS }, () => 0),
  ): Promise<number[]> => {
    const sample = build(ARMS[0], randomUUID(), new Date()).value.length;
    const batchSize = Math.floor(FETCH_BYTES / sample);
    const from = performance.now();
    console.log(
      `feeding ${total} ${what} of ${EXPERIMENT} in batches of ${batchSize} (${sample} B events, 4 MiB) over ${PARTITIONS} partitions`,
    );
    let fed = 0;
    let reported = 0;
    for (let batch = 0; fed < total; batch++) {
      const partition = batch % PARTITIONS;
      const n = Math.min(batchSize, total - fed);
      const messages: ConsumedMessage[] = [];
      for (let i = 0; i < n; i++) {
        const index = fed + i;
        const id = randomUUID();
        const arm = ARMS[index % ARMS.length];
        const at = new Date(start + Math.floor((index / total) * spanMs));
        messages.push(consumedMessage(build(arm, id, at), partition, next[partition]++));
        if (i === 0 && batch === partition) probe(partition, id, arm);
      }
      await useCase.execute({ role, partition, messages });
      fed += n;
      if (fed >= reported + total / 4 || fed === total) {
        reported = fed;
        const elapsed = (performance.now() - from) / 1000;
        console.log(
          `  ${fed} ${what} in ${elapsed.toFixed(0)} s (${(fed / elapsed).toFixed(0)}/s): RSS ${mb(process.memoryUsage().rss)}, heap used ${mb(process.memoryUsage().heapUsed)}, peak RSS ${mb(peakRss())}`,
        );
      }
    }
    return next;
  };

  // What this process feeds (the parent sets these per phase; by default the users, then the requests).
  const users = setting('BENCH_FEED_USERS', USERS);
  const requests = setting('BENCH_FEED_REQUESTS', REQUESTS);
  const retentionRequests = setting('BENCH_FEED_RETENTION_REQUESTS', 0);
  const horizons: FeedReport['horizons'] = [];
  if (retentionRequests > 0) {
    // The retention phase: a quarter of the requests per horizon. The clock the use case reads
    // (Date.now) moves one horizon after each quarter, as if each was a week of traffic.
    const realNow = Date.now;
    let shift = 0;
    Date.now = () => realNow() + shift;
    let next: number[] | undefined;
    for (let h = 0; h < HORIZONS; h++) {
      next = await feedAll(
        'generations',
        `distinct requests (horizon ${h + 1} of ${HORIZONS})`,
        Math.floor(retentionRequests / HORIZONS),
        generationTemplate(),
        () => undefined,
        next,
      );
      horizons.push({ held: held.held, rss: process.memoryUsage().rss });
      shift += RETENTION_MS;
    }
    Date.now = realNow;
  }
  const next =
    users > 0
      ? await feedAll('exposures', 'distinct users', users, exposureTemplate(), (partition, userId, arm) =>
          probes.push({ partition, offset: 0, userId, arm }),
        )
      : [];
  for (const p of probes) p.offset = next[p.partition];
  const peakRssUsers = peakRss();
  if (requests > 0) {
    await feedAll(
      'generations',
      'distinct requests',
      requests,
      generationTemplate(),
      (partition, requestId) => requestProbes.push({ partition, requestId }),
    );
  }
  const report: FeedReport = {
    rssBefore,
    peakRssUsers,
    peakRss: peakRss(),
    seconds: (performance.now() - started) / 1000,
    applied: outcomes.get('exposure:applied') ?? 0,
    generated: outcomes.get('generation:applied') ?? 0,
    probes,
    requestProbes,
    horizons,
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
      JSON.parse(process.env.BENCH_RELOAD_REQUEST_PROBES ?? '[]') as RequestProbe[],
    );
  }
  if (process.env.BENCH_FEED_DB) return feed(process.env.BENCH_FEED_DB);
  if (REQUESTS < HORIZONS)
    throw new Error(
      `BENCH_REQUESTS must be at least ${HORIZONS}: the reload and the retention phase feed requests`,
    );
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
  const retention = `${db}_ret`;
  try {
    console.log('built JavaScript (node --enable-source-maps):');
    const fed = await inChild<FeedReport>(...asBuilt, { BENCH_FEED_DB: db });
    if (fed.applied !== USERS) throw new Error(`${fed.applied} exposures applied, want ${USERS}`);
    if (fed.generated !== REQUESTS) throw new Error(`${fed.generated} generations applied, want ${REQUESTS}`);
    const reloaded = await inChild<ReloadReport>(...asBuilt, {
      BENCH_RELOAD_DB: db,
      BENCH_RELOAD_PROBES: JSON.stringify(fed.probes),
      BENCH_RELOAD_REQUEST_PROBES: JSON.stringify(fed.requestProbes),
    });
    console.log(
      `a fresh process reloaded ${PARTITIONS} partitions in ${reloaded.seconds.toFixed(1)} s: RSS ${mb(reloaded.rssBefore)} before, ${mb(reloaded.rssAfter)} after, peak ${mb(reloaded.peakRss)}; ${reloaded.duplicates} of ${fed.probes.length} exposure probes recognised as duplicates, ${reloaded.attributed} of ${fed.requestProbes.length} feedback probes applied (their request known)`,
    );
    if (reloaded.duplicates !== fed.probes.length) {
      throw new Error(`the reloaded state missed ${fed.probes.length - reloaded.duplicates} known users`);
    }
    if (reloaded.attributed !== fed.requestProbes.length) {
      throw new Error(
        `the reloaded state missed ${fed.requestProbes.length - reloaded.attributed} known requests`,
      );
    }
    console.log('the development path (node -r @swc-node/register), for comparison:');
    // Users only: the comparison is of the users' peak, and the requests would double its time.
    const devFed = await inChild<FeedReport>(...development, {
      BENCH_FEED_DB: dev,
      BENCH_FEED_REQUESTS: '0',
    });
    // The retention phase needs a batch per partition in each horizon: a partition without one is
    // not rotated (nor fed) in it.
    const perHorizon = Math.floor(REQUESTS / HORIZONS);
    const generationBytes = generationTemplate()(ARMS[0], randomUUID(), new Date()).value.length;
    const retainedRun = perHorizon >= PARTITIONS * Math.floor(FETCH_BYTES / generationBytes);
    let retained: FeedReport | undefined;
    if (retainedRun) {
      console.log(
        `the retention phase (built JavaScript): ${REQUESTS} requests, a quarter per horizon of the request retention (${CONFIG.ANALYTICS_REQUEST_RETENTION_HOURS} h, the clock moved):`,
      );
      retained = await inChild<FeedReport>(...asBuilt, {
        BENCH_FEED_DB: retention,
        BENCH_FEED_USERS: '0',
        BENCH_FEED_REQUESTS: '0',
        BENCH_FEED_RETENTION_REQUESTS: String(REQUESTS),
      });
      retained.horizons.forEach((h, i) =>
        console.log(`  after horizon ${i + 1}: ${h.held} requests held, RSS ${mb(h.rss)}`),
      );
      const held = retained.horizons[HORIZONS - 1].held;
      // Held for at least one horizon, forgotten within two: the last two quarters, exactly.
      if (held !== 2 * perHorizon)
        throw new Error(
          `${held} requests held after ${HORIZONS} horizons, want the last two horizons' ${2 * perHorizon}`,
        );
    } else
      console.log(
        `the retention phase skipped: BENCH_REQUESTS is too small to fill a batch per partition and horizon`,
      );
    reportResult({
      measure: `peak RSS feeding ${USERS} distinct users`,
      value: fed.peakRssUsers / MB,
      unit: 'MB',
      goal: { op: '<', value: 512 },
    });
    reportResult({
      measure: `peak RSS once ${REQUESTS} distinct requests were fed too`,
      value: fed.peakRss / MB,
      unit: 'MB',
    });
    reportResult({
      measure: 'peak RSS the requests added, per million requests',
      value: (fed.peakRss - fed.peakRssUsers) / MB / (REQUESTS / 1e6),
      unit: 'MB',
    });
    reportResult({
      measure: 'RSS after a fresh process reloaded the partitions',
      value: reloaded.rssAfter / MB,
      unit: 'MB',
      goal: { op: '<', value: 512 },
    });
    if (retained) {
      reportResult({
        measure: `requests held once ${REQUESTS} were fed over ${HORIZONS} horizons of the request retention`,
        value: retained.horizons[HORIZONS - 1].held,
        unit: 'requests',
      });
      reportResult({
        measure: `peak RSS feeding those ${REQUESTS} requests over ${HORIZONS} horizons (no users)`,
        value: retained.peakRss / MB,
        unit: 'MB',
      });
    }
    reportResult({
      measure: `peak RSS feeding ${USERS} distinct users, under @swc-node/register`,
      value: devFed.peakRssUsers / MB,
      unit: 'MB',
    });
  } finally {
    for (const name of [db, dev, retention]) {
      const persistence = await openPersistence(MONGO, name);
      await persistence.connection.dropDatabase();
      await persistence.connection.close();
    }
  }
}

runBench(main);
